/**
 * The measured tightness of the deterministic bounds on the families of ./tightnessFamilies.ts:
 * for each family and bound, the smallest and the median error / bound over N draws, and, where
 * the family shows a constant's terms are needed, the smallest error / (bound without them).
 * Prints the table of docs/theory/deterministic.md §10.
 *
 *   npx tsx properties/boundTightnessTable.ts [N]        (default 200 draws per family)
 */
import fc from 'fast-check'
import { BOUND_LABEL, boundsAt, draws, FAMILIES, specOf, type Bound } from './tightnessFamilies.js'

const N = Number(process.argv[2] ?? 200)
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
const lines = ['| family | bound | stated fraction | min error / bound | median | min error / (bound without the terms) |', '|---|---|---|---|---|---|']
for (const family of FAMILIES) {
  const sample = fc.sample(draws(family.ranges), { seed: 20210413, numRuns: N })
  for (const [name, f] of Object.entries(family.fractions) as Array<[Bound, number]>) {
    const ratios: number[] = []
    const without: number[] = []
    for (const d of sample) {
      const { rows } = boundsAt(specOf(d), d.D, d.t, d.k)
      ratios.push(rows[name].err / rows[name].bound)
      if (family.needed?.bounds.includes(name)) {
        const ab = boundsAt(specOf(d), d.D, d.t, d.k, family.needed.patch).rows[name]
        without.push(ab.err / ab.bound)
      }
    }
    const w = without.length === 0 ? '—' : Math.min(...without).toFixed(2)
    lines.push(`| ${family.name} | ${BOUND_LABEL[name]} | ${f} | ${Math.min(...ratios).toFixed(3)} | ${median(ratios).toFixed(3)} | ${w} |`)
  }
}
console.log(lines.join('\n'))
