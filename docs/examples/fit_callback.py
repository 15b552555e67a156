"""Watch a fit: the solver reports its iterates to ``fit``'s callback."""

from sklearn.datasets import make_regression

from convexnn import ConvexReLURegressor

X, y = make_regression(200, 5, noise=0.1, random_state=0)
trace = []
model = ConvexReLURegressor(alpha=1e-2, formulation="gated", solver="fista", random_state=0)
model.fit(
    X, y / y.std(), callback=lambda program, solution: trace.append(program.objective(solution))
)
print(f"{len(trace)} iterates reported; objective {trace[0]:.4f} -> {trace[-1]:.6f}")
print(f"fitted objective {model.objective_:.6f}, certified gap {model.gap_:.1e}")
