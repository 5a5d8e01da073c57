//! Which interface the OS layer reaches the host through: the C library
//! (the default, as programs do) or, with the `c-library` feature off,
//! raw system calls where the layer has them (rustix's `linux_raw`
//! backend). The report records it (`platform.interface`).

/// The interface checked, as the report names it: the C library's name and
/// version where it can be had, or raw system calls.
pub fn checked() -> String {
    match through_c_library() {
        true => c_library(),
        false => format!("raw-syscalls (rustix linux_raw; C functions of {} for the rest)", c_library()),
    }
}

/// Whether the operations under test go through the C library.
pub fn through_c_library() -> bool {
    cfg!(feature = "c-library") || !cfg!(any(target_os = "linux", target_os = "android"))
}

/// # References
/// - gnu_get_libc_version(3) (glibc).
#[cfg(all(any(target_os = "linux", target_os = "android"), target_env = "gnu"))]
fn c_library() -> String {
    // SAFETY: returns a pointer to a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    format!("glibc {}", version.to_string_lossy())
}

/// musl has no version call.
#[cfg(all(any(target_os = "linux", target_os = "android"), target_env = "musl"))]
fn c_library() -> String {
    "musl".to_string()
}

/// Android's C library.
#[cfg(all(target_os = "android", not(any(target_env = "gnu", target_env = "musl"))))]
fn c_library() -> String {
    "bionic".to_string()
}

/// macOS: libSystem, with the OS release it came with (`kern.osproductversion`).
#[cfg(target_os = "macos")]
fn c_library() -> String {
    let mut buf = [0u8; 64];
    let mut len = buf.len();
    let name = c"kern.osproductversion";
    // SAFETY: sysctlbyname writes at most `len` bytes into `buf`.
    let r = unsafe { libc::sysctlbyname(name.as_ptr(), buf.as_mut_ptr().cast(), &mut len, std::ptr::null_mut(), 0) };
    match r {
        0 => format!("libSystem (macOS {})", String::from_utf8_lossy(&buf[..len.saturating_sub(1)])),
        _ => "libSystem".to_string(),
    }
}

/// Elsewhere: the platform's C library, unnamed.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn c_library() -> String {
    "the platform's C library".to_string()
}
