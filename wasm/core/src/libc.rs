//! The allocator zstd's C decoder uses (passed as ZSTD_customMem, so nothing is exported).
use std::alloc::{alloc, dealloc, Layout};
use std::os::raw::c_void;

const HDR: usize = 16;

pub unsafe extern "C" fn zalloc(_opaque: *mut c_void, size: usize) -> *mut c_void {
    let layout = match Layout::from_size_align(size + HDR, HDR) {
        Ok(l) => l,
        Err(_) => return core::ptr::null_mut(),
    };
    let p = alloc(layout);
    if p.is_null() {
        return p as *mut c_void;
    }
    (p as *mut usize).write(size);
    p.add(HDR) as *mut c_void
}

pub unsafe extern "C" fn zfree(_opaque: *mut c_void, p: *mut c_void) {
    if p.is_null() {
        return;
    }
    let base = (p as *mut u8).sub(HDR);
    let size = (base as *mut usize).read();
    dealloc(base, Layout::from_size_align_unchecked(size + HDR, HDR));
}
