import { describe, expect, it } from 'vitest';
import type { RawFunction } from '../../src/schema/read-source.js';
import {
  retypeUidArguments,
  splitTopLevel,
  uidArgumentPositions,
  userIdArguments,
} from '../../src/schema/uid-arguments.js';

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

  it('finds user-id columns passed to functions in policies, and a position that also takes a uuid', () => {
    const kinds: Record<string, 'user id' | 'uuid'> = {
      '1/account_id': 'user id',
      '2/invitation_id': 'uuid',
    };
    const found = userIdArguments(
      [
        {
          text: 'has_role(account_id)',
          table: { oid: '1', name: 'members' },
          where: 'policy "a" on x.members',
        },
        {
          text: '(has_role(invitations.invitation_id) = true)',
          table: { oid: '2', name: 'invitations' },
          where: 'policy "b" on x.invitations',
        },
        { text: 'other(account_id)', where: 'view x.v' },
      ],
      (oid, column) => kinds[`${oid}/${column}`],
    );
    expect(found.positions.get('has_role')).toEqual(new Set([0]));
    expect(found.positions.has('other')).toBe(false);
    expect(found.conflicts).toHaveLength(1);
    expect(found.conflicts[0]).toMatch(
      /^has_role\(\): argument 1 is a user id \(text on the target\) where policy "a" on x\.members passes user id account_id, and a uuid where policy "b" on x\.invitations passes uuid column invitation_id/,
    );
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
