/** The library's version, from its package.json (the same path from src/ and from dist/). */
import { readFileSync } from 'node:fs'

let cached: string | undefined

/** The version in package.json ('0.0.0' when it cannot be read). */
export const libraryVersion = (): string => {
  if (cached !== undefined) return cached
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }
    cached = pkg.version ?? '0.0.0'
  } catch {
    cached = '0.0.0'
  }
  return cached
}
