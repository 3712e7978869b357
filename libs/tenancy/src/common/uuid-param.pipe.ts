import { Injectable, PipeTransform } from '@nestjs/common';
import { AppException, isUuid } from '@saasready/core';

/** A path id that must be a UUID: otherwise 400 validation_failed naming the parameter (never a 500). */
@Injectable()
export class UuidParamPipe implements PipeTransform<unknown, string> {
  constructor(private readonly field: string) {}

  transform(value: unknown): string {
    if (!isUuid(value)) throw AppException.validation([{ field: this.field, message: 'must be a UUID' }]);
    return value.toLowerCase();
  }
}

export const uuidParam = (field: string): UuidParamPipe => new UuidParamPipe(field);
