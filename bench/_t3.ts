import * as E from 'fp-ts/lib/Either.js'
import * as ad from '../src/ad/index.js'
const S = (ad.scalarFunction({ w: 2, lambda: 2 }, (w, l) => ad.sum(ad.square(ad.softplus(ad.mul(3, ad.mul(w, l)))))) as any).right as ad.ScalarFunction
const w = Float64Array.of(0.3, -0.5), l = Float64Array.of(0.7, 0.2), u = Float64Array.of(1, 0.5)
const hv = (S.hvp(w, l, u) as any).right
const h = 1e-5
const gp = (S.gradW(w.map((x, i) => x + h * u[i]!), l) as any).right, gm = (S.gradW(w.map((x, i) => x - h * u[i]!), l) as any).right
console.log(hv, gp.map((x: number, i: number) => (x - gm[i]) / (2 * h)))
const S2 = (ad.scalarFunction({ w: 2, lambda: 2 }, (w, l) => ad.sum(ad.softplus(ad.mul(w, l)))) as any).right as ad.ScalarFunction
const hv2 = (S2.hvp(w, l, u) as any).right
const gp2 = (S2.gradW(w.map((x, i) => x + h * u[i]!), l) as any).right, gm2 = (S2.gradW(w.map((x, i) => x - h * u[i]!), l) as any).right
console.log(hv2, gp2.map((x: number, i: number) => (x - gm2[i]) / (2 * h)))
