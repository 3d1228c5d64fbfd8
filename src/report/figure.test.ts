import { describe, expect, it } from 'vitest'
import { figureRows, lineFigure } from './figure.js'
import { toCsv } from './csv.js'

describe('figures', () => {
  const panels = [
    { title: 'λ = 1', series: [{ name: 'A', x: [1, 2, 3, 4], y: [1, 0.1, 0.01, 0.5], lo: [0.5, -1, 0.005, 0.2], hi: [2, 0.2, 0.005, Infinity] }] },
    { title: 'λ = 10', series: [{ name: 'A', x: [1, 2, 3], y: [2, 0, 0.2] }] },
  ]
  it('drops non-positive values on a log axis, clips bands at y/10³ there, and draws no band with an end that is not finite or that is empty', () => {
    const rows = figureRows(panels, true)
    expect(rows.filter((r) => r.panel === 'λ = 10').map((r) => r.x)).toEqual([1, 3])
    const a = rows.filter((r) => r.panel === 'λ = 1')
    expect(a.map((r) => [r.lo, r.hi])).toEqual([
      [0.5, 2],
      [0.1 * 1e-3, 0.2],
      [undefined, undefined],
      [undefined, undefined],
    ])
    // On a linear axis the band is kept as given.
    const lin = figureRows(panels, false)
    expect(lin).toHaveLength(7)
    expect(lin[1]!.lo).toBe(-1)
  })
  it('renders an SVG with one panel title per λ and the band as an area', async () => {
    const svg = await lineFigure(panels, { xLabel: 'epochs', yLabel: 'error', logY: true })
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('λ = 1')
    expect(svg).toContain('λ = 10')
    expect(svg).toMatch(/class="mark-area/)
  })
  it('writes CSV with quoting and the union of columns', () => {
    expect(toCsv([{ a: 1, b: 'x,y' }, { a: 2, c: true }])).toBe('a,b,c\n1,"x,y",\n2,,true\n')
  })
})
