/**
 * CPU kernels over arrays and lanes: the plain-Java FFT, the lane-per-channel vector FFT and lane kernels. An
 * implementation module of longconv, exported to its modules only.
 */
module dev.longconv.simd {
    requires transitive jdk.incubator.vector;
    requires java.management;
    requires jdk.management;

    exports dev.longconv.simd to dev.longconv;
}
