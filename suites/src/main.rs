fn main() {
    ipc_conform::enter_role();
    std::process::exit(ipc_conform::cli::main());
}
