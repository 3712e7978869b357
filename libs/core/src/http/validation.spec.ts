import { IsString, IsUUID, Validate, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { AppException } from '../errors/app.exception';
import { anyAsyncRule, StrictValidationPipe } from './validation';

class SyncDto {
  @IsUUID('all')
  id!: string;
}

describe('StrictValidationPipe', () => {
  const pipe = new StrictValidationPipe();
  const body = (metatype: new () => object) => ({ type: 'body' as const, metatype });

  it('validates and transforms a body, refusing bad values and unknown fields', async () => {
    const ok = await pipe.transform({ id: '0190a2b4-0000-7000-8000-000000000000' }, body(SyncDto));
    expect(ok).toBeInstanceOf(SyncDto);
    await expect(pipe.transform({ id: 'nope' }, body(SyncDto))).rejects.toBeInstanceOf(AppException);
    await expect(pipe.transform({ id: '0190a2b4-0000-7000-8000-000000000000', extra: 1 }, body(SyncDto))).rejects.toBeInstanceOf(
      AppException,
    );
  });

  it('passes custom parameters through untouched', async () => {
    const actor = { userId: 'u', email: 'e', sessionId: 's', currentOrgId: null };
    await expect(pipe.transform(actor, { type: 'custom' })).resolves.toBe(actor);
  });

  it('still enforces an asynchronous rule once one is registered (validateSync would skip it)', async () => {
    expect(anyAsyncRule()).toBe(false);
    @ValidatorConstraint({ name: 'slowlyForbidden', async: true })
    class SlowlyForbidden implements ValidatorConstraintInterface {
      async validate(value: unknown): Promise<boolean> {
        await new Promise((r) => setImmediate(r));
        return value !== 'forbidden';
      }
    }
    class AsyncDto {
      @IsString()
      @Validate(SlowlyForbidden)
      name!: string;
    }
    expect(anyAsyncRule()).toBe(true);
    await expect(pipe.transform({ name: 'fine' }, body(AsyncDto))).resolves.toBeInstanceOf(AsyncDto);
    await expect(pipe.transform({ name: 'forbidden' }, body(AsyncDto))).rejects.toBeInstanceOf(AppException);
  });
});
