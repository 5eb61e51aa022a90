package dev.longconv.ops;

import dev.longconv.Tensor;
import dev.longconv.ops.spi.Plans;

/**
 * The plan of a backend with no prepared form: it keeps the kernel tensor (which must stay open) and runs
 * the op on every apply.
 */
final class PerCallConvPlan implements ConvPlan {
    private final Backend backend;
    private final ConvProblem problem;
    private final Tensor k;

    PerCallConvPlan(Backend backend, ConvProblem problem, Tensor k) {
        this.backend = backend;
        this.problem = problem;
        this.k = k;
    }

    @Override
    public ConvProblem problem() {
        return problem;
    }

    @Override
    public Description describe() {
        return new Description(backend.name(), "per-call", 0);
    }

    @Override
    public void applyInto(Tensor x, Tensor y) {
        try (Tensor r = problem.kind() == ConvProblem.Kind.CAUSAL
                ? backend.causalConv(x, k, problem.layout()) : backend.toeplitzConv(x, k, problem.layout())) {
            Plans.copyInto(problem.op(), r, y);
        }
    }
}
