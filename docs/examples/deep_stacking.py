"""Layer-wise convex stacking: a deep ReLU network whose every block is a certified convex optimum."""

import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexDeepReLUClassifier

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

model = ConvexDeepReLUClassifier(hidden_layer_sizes=(16, 16), alpha=1e-2, n_gates=20, random_state=0)
model.fit(X_train, y_train)
print("widths reached      ", model.hidden_layer_sizes_)  # each at most the requested maximum
print("gap of every block  ", [f"{g:.1e}" for g in model.block_gaps_])
print(f"test accuracy        {model.score(X_test, y_test):.3f}")
mlp = model.to_mlp()  # an equivalent fitted scikit-learn MLPClassifier
print("MLPClassifier agrees:", np.array_equal(mlp.predict(X_test), model.predict(X_test)))
