import { Injectable, PipeTransform } from '@nestjs/common';
import { AppException } from '../errors/app.exception';

export const INSTANCE_REF = /^[A-Za-z0-9]{8}$/;

/** A path segment that cannot be an instanceRef names nothing: 404, without a database query. */
@Injectable()
export class InstanceRefPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !INSTANCE_REF.test(value)) throw new AppException('NOT_FOUND', 'Instance not found.');
    return value;
  }
}
