"""Quick start: a ReLU network trained by convex optimisation on a dataset bundled with sklearn."""

import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexReLUClassifier

X, y = load_wine(return_X_y=True)  # 178 wines, 13 features, 3 classes
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)  # weight decay is not scale invariant: standardise
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

clf = ConvexReLUClassifier(alpha=1e-2, n_gates=20, random_state=0).fit(X_train, y_train)

print(f"training objective J    {clf.objective_:.6f}")
print(f"certified relative gap  {clf.gap_:.1e}")
print(f"neurons                 {clf.n_neurons_} (from {clf.n_patterns_} sampled patterns)")
print(f"test accuracy           {clf.score(X_test, y_test):.3f}")

# The result is an ordinary ReLU network in scikit-learn's layout ...
print("weights:", [W.shape for W in clf.coefs_], "biases:", [b.shape for b in clf.intercepts_])
# ... and converts to a fitted MLPClassifier with the same predictions.
mlp = clf.to_mlp()
print("MLPClassifier agrees:", np.array_equal(mlp.predict(X_test), clf.predict(X_test)))
