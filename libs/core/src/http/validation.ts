import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage, validate, validateSync, ValidatorOptions } from 'class-validator';
import { AppException, FieldError } from '../errors/app.exception';
import { checkJsonSchemaBody } from './json-schema-body';

/** Memo of anyAsyncRule(); a newly registered constraint clears it. */
let asyncRule: boolean | undefined;

type ValidationMetadataList = { propertyName: string }[];
interface MetadataStorageInternals {
  addValidationMetadata(metadata: unknown): void;
  getTargetValidationMetadatas(
    target: object,
    schema: string,
    always: boolean,
    strictGroups: boolean,
    groups?: string[],
  ): ValidationMetadataList;
  groupByPropertyName(metadata: ValidationMetadataList): Record<string, ValidationMetadataList>;
}

/**
 * class-validator looks a DTO's rules up anew on every validation (filtering its rules and testing the
 * DTO against every registered class for inheritance), then groups them by property: a fixed cost on
 * every request with a body. The rules only change when a class is declared, so both lookups are
 * memoized, and a newly registered rule clears the memo. Callers only read the returned lists.
 */
export function memoizeValidationMetadata(): void {
  const storage = getMetadataStorage() as unknown as MetadataStorageInternals & { saasreadyMemo?: true };
  if (storage.saasreadyMemo) return;
  storage.saasreadyMemo = true;
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  let lists = new Map<object, Map<string, ValidationMetadataList>>();
  let groups = new WeakMap<ValidationMetadataList, Record<string, ValidationMetadataList>>();
  const constraints = storage as unknown as ConstraintStorage;
  const addConstraint = constraints.addConstraintMetadata.bind(storage);
  constraints.addConstraintMetadata = (metadata) => {
    asyncRule = undefined;
    addConstraint(metadata);
  };
  storage.addValidationMetadata = (metadata) => {
    lists = new Map();
    groups = new WeakMap();
    add(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groupNames) => {
    if (schema) return lookup(target, schema, always, strictGroups, groupNames);
    const key = `${always}|${strictGroups}|${groupNames?.join(',') ?? ''}`;
    let byOptions = lists.get(target);
    if (!byOptions) lists.set(target, (byOptions = new Map()));
    let list = byOptions.get(key);
    if (!list) byOptions.set(key, (list = lookup(target, schema, always, strictGroups, groupNames)));
    return list;
  };
  storage.groupByPropertyName = (list) => {
    let grouped = groups.get(list);
    if (!grouped) groups.set(list, (grouped = group(list)));
    return grouped;
  };
}

/** Whether any registered class-validator constraint is asynchronous (memoized; a new constraint clears it). */
export function anyAsyncRule(): boolean {
  if (asyncRule !== undefined) return asyncRule;
  const storage = getMetadataStorage() as unknown as ConstraintStorage;
  asyncRule = [...storage.constraintMetadatas.values()].some((list) => list.some((c) => c.async));
  return asyncRule;
}

interface ConstraintStorage {
  constraintMetadatas: Map<unknown, { async: boolean }[]>;
  addConstraintMetadata(metadata: unknown): void;
}

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      out.push({ field, message: message.startsWith('property ') ? `unknown field "${e.property}"` : message });
    }
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/** The path of the first string holding U+0000 (PostgreSQL text and jsonb cannot store it), if any. */
function nulField(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (typeof value !== 'object' || value === null || depth > 32) return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\u0000')) return path ? `${path}.${k}` : k;
    const found = nulField(v, Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * class-validator on every DTO: unknown fields are refused (no mass assignment), values are
 * converted to the DTO's types, and failures become 400 validation_failed with a field list.
 * A NUL character in a body, query or path value is 400 too (PostgreSQL cannot store it: not a 500).
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    memoizeValidationMetadata();
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => AppException.validation(flatten(errors)),
    });
  }

  /**
   * Synchronous while no asynchronous rule is registered (none of ours is): class-validator's async path
   * costs a promise per property. validateSync would skip an async rule, so once one exists (a fork's
   * custom validator), every validation takes the async path.
   */
  protected override validate(object: object, validatorOptions?: ValidatorOptions): ValidationError[] | Promise<ValidationError[]> {
    return anyAsyncRule() ? validate(object, validatorOptions) : validateSync(object, validatorOptions);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Our own parameter decorators (@CurrentActor, @CurrentOrg) hand over what the guard set: nothing to check.
    if (metadata.type === 'custom') return value;
    if (metadata.type === 'body' && metadata.metatype && this.toValidate(metadata)) {
      if (value === undefined || value === null) value = {};
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw AppException.validation([{ field: '(body)', message: 'the body must be a JSON object' }]);
      }
    }
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') {
      const field = nulField(value, metadata.type === 'body' ? '' : (metadata.data ?? ''));
      if (field !== undefined)
        throw AppException.validation([{ field: field || `(${metadata.type})`, message: 'must not contain NUL characters' }]);
    }
    if (metadata.type === 'body') {
      // A DTO with a compiled JSON Schema (@JsonSchemaBody): validated by Ajv instead of class-validator.
      const errors = checkJsonSchemaBody(metadata.metatype, value);
      if (errors?.length) throw AppException.validation(errors);
      if (errors) return value;
    }
    return super.transform(value, metadata);
  }
}
