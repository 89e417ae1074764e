import { describe, expect, it } from 'vitest';
import type { RawFunction } from '../../src/schema/read-source.js';
import { retypeUidArguments, splitTopLevel, uidArgumentPositions } from '../../src/schema/uid-arguments.js';

describe('text user ids: functions called with auth.uid()', () => {
  it('splits arguments at top-level commas only', () => {
    expect(splitTopLevel(`'a,b'::text, f(x, y), arr[1, 2], "odd,name"`)).toEqual([
      `'a,b'::text`,
      'f(x, y)',
      'arr[1, 2]',
      '"odd,name"',
    ]);
  });

  it('finds the positions where policies pass auth.uid(), as pg_get_expr prints them', () => {
    const found = uidArgumentPositions([
      `authorize('channels.delete'::app_permission, auth.uid())`,
      `billing.can_see(id, ( SELECT auth.uid() AS uid))`,
      `(user_id = auth.uid())`,
    ]);
    expect(found.get('authorize')).toEqual(new Set([1]));
    expect(found.get('can_see')).toEqual(new Set([1]));
    expect(found.has('uid')).toBe(false);
  });

  it('rewrites those uuid parameters to text, in the definition and the signature', () => {
    const f = {
      signature: 'public.authorize(public.app_permission,uuid)',
      arguments: 'requested_permission public.app_permission, user_id uuid',
      definition:
        'CREATE OR REPLACE FUNCTION public.authorize(requested_permission public.app_permission, user_id uuid)\n RETURNS boolean\n AS $function$ select true $function$',
    } as RawFunction;
    const r = retypeUidArguments(f, new Set([1]))!;
    expect(r.signature).toBe('public.authorize(public.app_permission,text)');
    expect(r.definition).toMatch(
      /^CREATE OR REPLACE FUNCTION public\.authorize\(requested_permission public\.app_permission, user_id text\)\n/,
    );
    expect(r.changed).toEqual(['user_id uuid']);
    expect(retypeUidArguments(f, new Set([0]))).toBeUndefined();
  });
});
