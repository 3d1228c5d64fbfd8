// The README's examples run as written and print what they claim.
import { readFileSync } from 'node:fs'
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
