/**
 * A labelled dataset: a dense row-major design matrix X (n × p) and targets y (n).
 * For classification, y ∈ {−1, +1}; for regression, y is real.
 */
import type { Matrix, RVec } from '../linalg/types.js'

export interface Dataset {
  readonly X: Matrix
  readonly y: RVec
}
