import { Injectable, PipeTransform } from '@nestjs/common';
import { AppException } from '../errors/app.exception';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path segment that cannot be a key id (instance or MiCA) names nothing: 404, without a database query. */
@Injectable()
export class KeyIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID.test(value)) throw new AppException('NOT_FOUND', 'Key not found.');
    return value.toLowerCase();
  }
}
