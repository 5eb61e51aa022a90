package dev.longconv.layers;

/** Z v summed from the definition: (Z v)_i = sum_j g[i + j] v_j. */
record HankelDirectOperator(double[] generator) implements HankelOperator {
    HankelDirectOperator {
        if (generator.length % 2 == 0) {
            throw new IllegalArgumentException("Hankel generator length must be 2L-1 (odd), got " + generator.length);
        }
    }

    @Override
    public int size() {
        return (generator.length + 1) / 2;
    }

    @Override
    public void apply(double[] v, double[] out) {
        int n = size();
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) s += generator[i + j] * v[j];
            out[i] = s;
        }
    }
}
