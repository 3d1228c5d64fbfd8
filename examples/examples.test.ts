// The README's examples run as written and print what they claim.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'

describe('README examples', () => {
  it('the quickstart is the README code, and its AID estimate matches the closed form', async () => {
    const code = readFileSync(new URL('./quickstart.ts', import.meta.url), 'utf8').trim()
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(readme).toContain(code)
    const logged: unknown[][] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logged.push(a))
    try {
      await import('./quickstart.js')
    } finally {
      spy.mockRestore()
    }
    const [status, estimate] = logged[0] as [string, Float64Array]
    const [truth] = logged[1] as [Float64Array]
    expect(status).not.toBe('diverged')
    let d = 0
    let n = 0
    for (let i = 0; i < truth.length; i++) ((d += (estimate[i]! - truth[i]!) ** 2), (n += truth[i]! ** 2))
    expect(Math.sqrt(d / n)).toBeLessThan(1e-8)
  })
})

describe('examples/composeSolvers.ts', () => {
  it('runs as `npx tsx examples/composeSolvers.ts`: averaged SGD stopped by a rule, a tapped linear solver, a user solver through the laws', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./composeSolvers.ts', import.meta.url))], { encoding: 'utf8', timeout: 60_000 })
    const line = (key: string): string => out.split('\n').find((l) => l.startsWith(key))?.slice(key.length).trim() ?? ''
    // The estimate is close to the closed form (averaged SGD after 40 passes, 800 linear steps).
    expect(Number(line('relative error'))).toBeLessThan(1e-2)
    // The lower stage stopped by its rule (converged), at the budget: 40 passes of 10 of 200 samples.
    expect(line('status')).toMatch(/^maxIter \(lower: converged after t = 800, stopped by rule: budget phi ≤ 40; linear: maxIter after k = 800\)$/)
    // tap saw every linear state: the start and the 800 steps.
    expect(line('observed')).toMatch(/^801 linear states/)
    expect(line('nesterov laws')).toBe('10 of 10 hold')
  })
  it('docs/extending.md shows the example programs as they are', () => {
    const doc = readFileSync(new URL('../docs/extending.md', import.meta.url), 'utf8')
    for (const f of ['composeSolvers.ts', 'nesterov.ts', 'minimalResidual.ts']) expect(doc).toContain(readFileSync(new URL(`./${f}`, import.meta.url), 'utf8').trim())
  })
  it('examples/minimalResidual.ts: a linear solver as init/step passes the laws and beats fixed point in AID', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./minimalResidual.ts', import.meta.url))], { encoding: 'utf8', timeout: 60_000 })
    const lines = out.trim().split('\n')
    expect(lines[0]).toMatch(/^all \d+ solver laws hold$/)
    const err = (l: string) => Number(/= (\S+)$/.exec(l)![1])
    expect(err(lines[2]!)).toBeLessThan(err(lines[1]!))
  })
})
