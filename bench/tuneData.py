"""The breast-cancer data of bench/tune.bench.ts, written as libsvm files that both sides read:
hypergrad (`hypergrad tune` on the files) and the scikit-learn peer (tune_sklearn.py TRAIN VAL).

  tuneData.py OUT_DIR   write OUT_DIR/bc-train.svm (300 rows) and OUT_DIR/bc-val.svm (269 rows)

scikit-learn's bundled Wisconsin breast-cancer set (569 × 30, no download): features
standardized (mean 0, variance 1 over all 569 rows), labels +1 (benign) / −1 (malignant), rows
shuffled by numpy's default_rng(0), the first 300 for training, the rest for validation. Values
are written with 17 significant digits, so both readers get the same float64 numbers."""
import os, sys
import numpy as np
from sklearn.datasets import load_breast_cancer


def write_svm(path, X, y):
    with open(path, 'w') as f:
        for i in range(len(y)):
            f.write(f'{int(y[i])} ' + ' '.join(f'{j + 1}:{v:.17g}' for j, v in enumerate(X[i]) if v != 0) + '\n')


if __name__ == '__main__':
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    X, y = load_breast_cancer(return_X_y=True)
    p = np.random.default_rng(0).permutation(len(y))
    X, y = X[p], y[p]
    X = (X - X.mean(0)) / X.std(0)
    y = np.where(y == 1, 1, -1)
    write_svm(os.path.join(out, 'bc-train.svm'), X[:300], y[:300])
    write_svm(os.path.join(out, 'bc-val.svm'), X[300:], y[300:])
    print(f'breast cancer: {X.shape[1]} features, 300 training and {len(y) - 300} validation rows')
