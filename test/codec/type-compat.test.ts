import { describe, expect, it } from 'vitest';
import { targetAccepts, typeTakes } from '../../src/codec/type-compat.js';

describe('typeTakes', () => {
  it.each([
    ['numeric(10,2)', 'numeric(10,2)', true],
    ['numeric(10,2)', 'numeric(12,2)', true],
    ['numeric(10,2)', 'numeric', true],
    ['numeric(10,2)', 'numeric(5,1)', false],
    ['numeric(10,2)', 'numeric(10,4)', false],
    ['numeric', 'numeric(20,2)', false],
    ['timestamp(6) without time zone', 'timestamp(0) without time zone', false],
    ['timestamp without time zone', 'timestamp(0) without time zone', false],
    ['timestamp with time zone', 'timestamp(6) with time zone', true],
    ['character varying(50)', 'character varying(100)', true],
    ['character varying(50)', 'character varying(10)', false],
    ['text', 'character varying(10)', false],
    ['character varying(255)', 'text', true],
    ['integer', 'bigint', true],
    ['bigint', 'integer', false],
    ['integer', 'numeric(12,0)', true],
    ['integer', 'numeric(5,0)', false],
    ['text[]', 'text[]', true],
    ['text[]', 'text', false],
    ['uuid', 'text', true],
    ['json', 'jsonb', true],
    ['public.mood', 'public.mood', true],
    ['public.mood', 'text', false],
    // An export of 0.2 or earlier names a type its role's search_path found without the schema.
    ['citext', 'extensions.citext', true],
    ['extensions.geography(Point,4326)', 'extensions.geography(Point,4326)', true],
    ['mood[]', 'public.mood[]', true],
    ['extensions.citext', 'public.citext', false],
    ['"My Schema".mood', 'public.mood', false],
  ])('%s into %s: %s', (source, target, expected) => {
    expect(typeTakes(source, target)).toBe(expected);
  });
});

describe('targetAccepts: a type named without its schema by an older export', () => {
  it('is the same type, read back as it is, not cast back', () => {
    expect(targetAccepts('citext', 'extensions.citext')).toEqual({ takes: true, verify: 'same' });
    expect(targetAccepts('public.mood', 'public.mood')).toEqual({ takes: true, verify: 'same' });
  });
});
