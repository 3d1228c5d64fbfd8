// Graceful degradation: under a limit on virtual memory (ulimit -v, as on shared clusters) the
// WebAssembly memory of the row engine cannot be reserved. The problems must then give the same
// bits through the TypeScript kernels, say so once on standard error, and not fail.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { rowPassesHash } from './degradeFixture.test-util.js'

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'degradeFixture.test-util.ts')

/** Run the fixture in a child process under `ulimit -v kb`. */
const run = (kb: number): { readonly status: number | null; readonly out: string; readonly notes: string[] } => {
  const cmd = `ulimit -v ${kb}; exec node --unhandled-rejections=warn --import tsx ${JSON.stringify(fixture)}`
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 120_000 })
  return { status: r.status, out: r.stdout.trim(), notes: r.stderr.split('\n').filter((l) => l.startsWith('hypergrad:')) }
}

describe('the row engine without WebAssembly memory', () => {
  it('gives the bits of an unlimited run with room for at most one instance (20 GB) and with none (12 GB), and notes it once', () => {
    const free = rowPassesHash()
    expect(free).toMatch(/^[0-9a-f]{64}$/)
    for (const kb of [20_000_000, 12_000_000]) {
      const limited = run(kb)
      expect(limited.status).toBe(0)
      expect(limited.out).toBe(free)
      expect(limited.notes.length).toBe(1)
      expect(limited.notes[0]).toMatch(/^hypergrad: WebAssembly memory could not be allocated .*; the row passes run on the TypeScript kernels where needed \(same results, slower\)$/)
    }
  })
})
