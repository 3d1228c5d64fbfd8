// The shape of src/ as docs/architecture.md states it: no import cycle between files (type
// imports included), and each module imports only from the modules its row of the table names.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../src', import.meta.url))

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return files(p)
    return p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.test-util.ts') ? [p] : []
  })

/** The library files each file imports (relative specifiers, type imports included). */
const graph = (): Map<string, string[]> => {
  const g = new Map<string, string[]>()
  for (const f of files(root)) {
    const text = readFileSync(f, 'utf8')
    const deps: string[] = []
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
      const spec = m[1]!.replace(/\.js$/, '.ts')
      deps.push(normalize(join(dirname(f), spec)))
    }
    g.set(f, deps)
  }
  return g
}

/** The top-level module of a file: its folder under src/, or its name for a file at the top. */
const moduleOf = (f: string): string => {
  const r = relative(root, f)
  return r.includes('/') ? r.split('/')[0]! : r.replace(/\.ts$/, '')
}

// docs/architecture.md, "The data flow": who may import whom.
const allowed: Record<string, ReadonlyArray<string>> = {
  errors: [],
  linalg: ['errors'],
  random: [],
  stream: [],
  report: [],
  config: ['errors'],
  schedule: ['errors', 'stream'],
  ad: ['errors', 'linalg'],
  data: ['errors', 'linalg', 'random'],
  problem: ['ad', 'errors', 'linalg', 'random'],
  problems: ['ad', 'data', 'problem', 'errors', 'linalg', 'random'],
  solvers: ['problem', 'schedule', 'errors', 'linalg', 'random', 'stream'],
  hypergrad: ['solvers', 'problem', 'schedule', 'errors', 'linalg', 'random', 'stream'],
  bounds: ['problems', 'problem', 'errors', 'linalg', 'random'],
  outer: ['bounds', 'hypergrad', 'solvers', 'problem', 'errors', 'linalg'],
  experiments: ['outer', 'bounds', 'hypergrad', 'solvers', 'problems', 'problem', 'data', 'report', 'config', 'errors', 'linalg', 'random'],
  cli: ['experiments', 'outer', 'bounds', 'hypergrad', 'solvers', 'problems', 'problem', 'data', 'report', 'schedule', 'config', 'errors', 'linalg'],
  laws: ['solvers', 'problem', 'schedule', 'linalg', 'random', 'stream'],
  index: ['*'],
}

describe('architecture', () => {
  const g = graph()
  it('has no import cycle between files of src/ (type imports included)', () => {
    const state = new Map<string, 'open' | 'done'>()
    const cycles: string[] = []
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((x) => relative(root, x)).join(' → '))
        return
      }
      state.set(f, 'open')
      for (const d of g.get(f) ?? []) visit(d, [...path, f])
      state.set(f, 'done')
    }
    for (const f of g.keys()) visit(f, [])
    expect(cycles).toEqual([])
  })
  it('each module imports only from the modules docs/architecture.md allows it', () => {
    const bad: string[] = []
    for (const [f, deps] of g) {
      const m = moduleOf(f)
      const ok = allowed[m]
      if (ok === undefined) {
        bad.push(`${relative(root, f)}: module ${m} is not in the table`)
        continue
      }
      for (const d of deps) {
        const dm = moduleOf(d)
        if (dm !== m && !ok.includes('*') && !ok.includes(dm)) bad.push(`${relative(root, f)} imports ${relative(root, d)} (${m} → ${dm})`)
      }
    }
    expect(bad).toEqual([])
  })
})
