// The programs of docs/bring-your-own-model.md are the files examples/bringYourOwn*.ts, and they
// print what the page says they print.
import { readFileSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'

const page = readFileSync(new URL('../docs/bring-your-own-model.md', import.meta.url), 'utf8')

/** The text block that follows the given code on the page. */
const printedAfter = (code: string): string[] => {
  const at = page.indexOf(code)
  const open = page.indexOf('```text\n', at + code.length)
  const close = page.indexOf('```', open + 8)
  return page.slice(open + 8, close).trim().split('\n')
}

describe('docs/bring-your-own-model.md', () => {
  for (const file of ['bringYourOwnModel', 'bringYourOwnMap'])
    it(`${file}.ts is on the page and prints what the page shows`, async () => {
      const code = readFileSync(new URL(`./${file}.ts`, import.meta.url), 'utf8').trim()
      expect(page).toContain(code)
      const logged: string[] = []
      const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logged.push(a.map(String).join(' ')))
      try {
        await import(`./${file}.js`)
      } finally {
        spy.mockRestore()
      }
      expect(logged).toEqual(printedAfter(code))
    })
})
