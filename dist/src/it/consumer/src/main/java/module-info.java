/** A user's module: it needs dev.longconv only; the cuda backend and the kernels arrive by service binding. */
module example.consumer {
    requires dev.longconv;
}
