import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { checkJsonSchemaBody } from '@saasready/core';
import { ALL_PERMISSIONS } from '@saasready/rbac';
import { AUTHZ_BATCH_MAX, AuthzRequestDto } from './authz.dto';

/** What the class-validator rules of the DTO say (as StrictValidationPipe would run them): the fields in error. */
function classValidatorFields(body: object): string[] {
  const errors = validateSync(plainToInstance(AuthzRequestDto, body), { whitelist: true, forbidNonWhitelisted: true });
  const fields: string[] = [];
  const walk = (list: typeof errors, prefix: string) => {
    for (const e of list) {
      const field = prefix ? `${prefix}.${e.property}` : e.property;
      if (e.constraints) fields.push(field);
      if (e.children?.length) walk(e.children, field);
    }
  };
  walk(errors, '');
  return [...new Set(fields)].sort();
}

function schemaFields(body: object): string[] {
  return [...new Set(checkJsonSchemaBody(AuthzRequestDto, body)!.map((e) => e.field))].sort();
}

const ORG = '0190a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b';
const one = { org_id: ORG, permission: 'org.read' };

describe('AuthzRequestDto: the JSON Schema and the class-validator rules agree', () => {
  const bodies: [string, object][] = [
    ['one check', one],
    ['a batch', { checks: [one, { org_id: ORG.toUpperCase(), permission: ALL_PERMISSIONS[ALL_PERMISSIONS.length - 1] }] }],
    ['a full batch', { checks: Array.from({ length: AUTHZ_BATCH_MAX }, () => one) }],
    ['an empty batch', { checks: [] }],
    ['nothing (the handler refuses it)', {}],
    ['only org_id (the handler refuses it)', { org_id: ORG }],
    [
      'the nil and max UUIDs',
      {
        checks: [
          { ...one, org_id: '00000000-0000-0000-0000-000000000000' },
          { ...one, org_id: 'FFFFFFFF-ffff-FFFF-ffff-FFFFFFFFFFFF' },
        ],
      },
    ],
    ['a batch too long', { checks: Array.from({ length: AUTHZ_BATCH_MAX + 1 }, () => one) }],
    ['not a UUID', { org_id: 'nope', permission: 'org.read' }],
    ['a UUID of version 0', { org_id: '0190a2b4-5c6d-0e8f-9a0b-1c2d3e4f5a6b', permission: 'org.read' }],
    ['a UUID without its variant', { org_id: '0190a2b4-5c6d-7e8f-1a0b-1c2d3e4f5a6b', permission: 'org.read' }],
    ['a UUID in braces', { org_id: `{${ORG}}`, permission: 'org.read' }],
    ['a URN', { org_id: `urn:uuid:${ORG}`, permission: 'org.read' }],
    ['an unknown permission', { org_id: ORG, permission: 'org.destroy' }],
    ['a permission in another case', { org_id: ORG, permission: 'ORG.READ' }],
    ['a number for a permission', { org_id: ORG, permission: 42 }],
    ['a number for an org', { org_id: 42, permission: 'org.read' }],
    ['an unknown field', { ...one, user_id: ORG }],
    ['checks not an array', { checks: 'all' }],
    ['checks an object', { checks: { 0: one } }],
    ['a check without a permission', { checks: [{ org_id: ORG }] }],
    ['a check with an unknown field', { checks: [{ ...one, extra: 1 }] }],
    ['a check not an object', { checks: [42] }],
    ['a check with a bad org', { checks: [one, { org_id: 'x', permission: 'org.read' }] }],
  ];

  // The same bodies accepted, and the same top-level fields in error (class-validator also reports the
  // items of a `checks` that is not an array).
  const top = (fields: string[]) => [...new Set(fields.map((f) => f.split('.')[0]))];
  it.each(bodies)('%s', (_name, body) => {
    expect(top(schemaFields(body))).toEqual(top(classValidatorFields(body)));
  });

  it('is stricter about null and `constructor`: refused, where @IsOptional() skips null and the pipe drops `constructor`', () => {
    expect(schemaFields({ org_id: null, permission: null })).toEqual(['org_id', 'permission']);
    expect(classValidatorFields({ org_id: null, permission: null })).toEqual([]);
    expect(schemaFields({ ...one, constructor: 'x' })).toEqual(['constructor']);
  });

  it('words its errors as the class-validator rules do', () => {
    expect(checkJsonSchemaBody(AuthzRequestDto, { org_id: 'x', permission: 'org.read', extra: 1 })).toEqual(
      expect.arrayContaining([
        { field: 'org_id', message: 'must be a UUID' },
        { field: 'extra', message: 'unknown field "extra"' },
      ]),
    );
    expect(checkJsonSchemaBody(AuthzRequestDto, { checks: Array.from({ length: AUTHZ_BATCH_MAX + 1 }, () => one) })).toEqual([
      { field: 'checks', message: `must hold at most ${AUTHZ_BATCH_MAX} checks` },
    ]);
  });
});
