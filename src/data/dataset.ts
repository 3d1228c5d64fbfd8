/**
 * A labelled dataset: a design matrix X (n × p), dense row-major or compressed sparse rows
 * (`linalg/csr.ts`), and targets y (n). Labels are ±1 for binary classification, the class
 * indices 0…C−1 for multiclass classification (with `nClasses` = C), and real for regression.
 *
 * The type parameter is the layout of X. It defaults to the dense `Matrix`, the layout that code
 * reading `X.data` expects; the problems, the splits, the checks and the sparse libsvm reader
 * take and give {@link DesignDataset}, dense or CSR.
 */
import type { CsrMatrix, DesignMatrix } from '../linalg/csr.js'
import type { Matrix, RVec } from '../linalg/types.js'

export interface Dataset<M extends DesignMatrix = Matrix> {
  readonly X: M
  readonly y: RVec
  /** The number of classes C of a multiclass dataset (labels 0…C−1); absent otherwise. */
  readonly nClasses?: number
}

/** A dataset whose X is dense or CSR. */
export type DesignDataset = Dataset<DesignMatrix>
/** A dataset with a dense row-major design matrix. */
export type DenseDataset = Dataset<Matrix>
/** A dataset with a CSR design matrix. */
export type SparseDataset = Dataset<CsrMatrix>
