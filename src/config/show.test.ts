import { describe, expect, it } from 'vitest'
import { showKey, showValue } from './show.js'

describe('showValue', () => {
  it('shows small values as JSON', () => {
    expect(showValue(3)).toBe('3')
    expect(showValue(-0)).toBe('-0')
    expect(showValue('a"b')).toBe('"a\\"b"')
    expect(showValue([1, [2, { a: null }]])).toBe('[1,[2,{"a":null}]]')
    expect(showValue({ x: true, y: [] })).toBe('{"x":true,"y":[]}')
    expect(showValue(undefined)).toBe('undefined')
  })
  it('cuts nesting at three levels and length at max, with the walk bounded by max', () => {
    let deep: unknown = 1
    for (let i = 0; i < 200_000; i++) deep = [deep]
    expect(showValue(deep)).toBe('[[[[…]]]]')
    let obj: unknown = 1
    for (let i = 0; i < 200_000; i++) obj = { a: obj }
    expect(showValue(obj)).toBe('{"a":{"a":{"a":{…}}}}')
    const long = Array.from({ length: 1_000_000 }, (_, i) => i)
    const s = showValue(long, 30)
    expect(s).toHaveLength(30)
    expect(s.endsWith('…')).toBe(true)
    expect(showValue('x'.repeat(10_000_000), 20)).toMatch(/^"x+…"$/)
  })
  it('keeps a message on one line: control characters are escaped', () => {
    expect(showValue('a\nb\r\tc\u2028')).toBe('"a\\nb\\r\\tc\\u2028"')
    expect(showKey('x\ny')).toBe('x\\ny')
    expect(showKey('k'.repeat(100))).toBe(`${'k'.repeat(40)}…`)
  })
})
