/** Configs of the `hypergrad` command for its tests: the usual estimate config, and a writer of config files. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * An estimate config: scalar λ on train.svm / val.svm, AID with gradient descent and conjugate
 * gradients, seed 0 (the problem and the data files may be changed).
 */
export const aidConfig = (o: { readonly lambda: number; readonly t: number; readonly k: number; readonly problem?: string; readonly train?: string; readonly validation?: string }) => ({
  problem: o.problem ?? 'logistic',
  regularization: 'scalar',
  data: { train: o.train ?? 'train.svm', validation: o.validation ?? 'val.svm' },
  lambda: o.lambda,
  method: { name: 'aid', lower: 'gd', linear: 'cg', t: o.t, k: o.k },
  seed: 0,
})

/** Writes a config into dir (an object as JSON, a string as is) and gives its path. */
export const writeConfig = (dir: string, name: string, cfg: unknown): string => {
  const p = join(dir, name)
  writeFileSync(p, typeof cfg === 'string' ? cfg : JSON.stringify(cfg))
  return p
}
