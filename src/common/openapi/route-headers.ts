import { RequestMethod } from '@nestjs/common';
import { HEADERS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';

/**
 * The fixed response headers each route sets with Nest's `@Header(name, value)`, keyed
 * `"<method> <OpenAPI path>"`, read from the controllers themselves so the document lists them
 * (Cache-Control: no-store on answers carrying a secret, the register's cache lifetimes) without a
 * second decorator that could drift.
 */
export function routeHeaders(app: INestApplication, prefix: string): Map<string, Array<{ name: string; value: string }>> {
  const out = new Map<string, Array<{ name: string; value: string }>>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
      if (!type?.prototype) continue;
      const base = ([] as string[]).concat((Reflect.getMetadata(PATH_METADATA, type) ?? '') as string | string[])[0];
      for (const key of Object.getOwnPropertyNames(type.prototype)) {
        const handler = (type.prototype as Record<string, unknown>)[key];
        if (key === 'constructor' || typeof handler !== 'function') continue;
        const headers = Reflect.getMetadata(HEADERS_METADATA, handler) as Array<{ name: string; value: string }> | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (!headers?.length || method === undefined) continue;
        const path = ([] as string[]).concat((Reflect.getMetadata(PATH_METADATA, handler) ?? '') as string | string[])[0];
        const full = `/${[prefix, base, path]
          .map((p) => p.replace(/^\/|\/$/g, ''))
          .filter(Boolean)
          .join('/')}`.replace(/:(\w+)/g, '{$1}');
        out.set(`${RequestMethod[method].toLowerCase()} ${full}`, headers);
      }
    }
  }
  return out;
}
