import { describe, expect, it } from 'vitest'
import { figureRows, lineFigure } from './figure.js'
import { toCsv } from './csv.js'

describe('figures', () => {
  const panels = [
    { title: 'λ = 1', series: [{ name: 'A', x: [1, 2, 3], mean: [1, 0.1, 0.01], std: [0.5, 0.05, 0.02] }] },
    { title: 'λ = 10', series: [{ name: 'A', x: [1, 2, 3], mean: [2, 0, 0.2] }] },
  ]
  it('drops non-positive values on a log axis and clips bands above zero', () => {
    const rows = figureRows(panels, true)
    expect(rows.filter((r) => r.panel === 'λ = 10').map((r) => r.x)).toEqual([1, 3])
    for (const r of rows) if (r.lo !== undefined) expect(r.lo).toBeGreaterThan(0)
    expect(figureRows(panels, false)).toHaveLength(6)
  })
  it('renders an SVG with one panel title per λ', async () => {
    const svg = await lineFigure(panels, { xLabel: 'epochs', yLabel: 'error', logY: true })
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('λ = 1')
    expect(svg).toContain('λ = 10')
  })
  it('writes CSV with quoting and the union of columns', () => {
    expect(toCsv([{ a: 1, b: 'x,y' }, { a: 2, c: true }])).toBe('a,b,c\n1,"x,y",\n2,,true\n')
  })
})
