fn main() {
    println!("cargo:rerun-if-changed=csrc/numfmt.c");
    cc::Build::new()
        .file("csrc/numfmt.c")
        .warnings(true)
        .compile("redstep_numfmt");
}
