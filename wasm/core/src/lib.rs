//! tspod's WebAssembly image core.
//!
//! Exports follow the component model's canonical ABI for the world in
//! `wasm/wit/core.wit` (integers stay integers; `list<u8>` and `string` travel as
//! pointer/length pairs, results through a return area, freed by `cabi_post_*`).
//! tspod's runtime instantiates the core module directly and calls the same exports
//! (see src/core/wasm.ts); the component built from it is for other hosts.
mod crc32;
mod inflate;
mod libc;
mod sha256;
mod zstd;
mod zstd_enc;

use std::alloc::{alloc, dealloc, realloc, Layout};

pub const KIND_GZIP: u32 = 1;
pub const KIND_ZSTD: u32 = 2;
/// gzip whose CRC32 the host computes and checks (see stream-member-crc).
pub const KIND_GZIP_HOST_CRC: u32 = 3;

static mut RET: [u32; 4] = [0; 4];

fn ret_area() -> *mut u32 {
    unsafe { core::ptr::addr_of_mut!(RET) as *mut u32 }
}

#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    if new_size == 0 {
        if old_size != 0 {
            dealloc(old, Layout::from_size_align_unchecked(old_size, align));
        }
        return align as *mut u8;
    }
    let p = if old_size == 0 {
        alloc(Layout::from_size_align_unchecked(new_size, align))
    } else {
        realloc(old, Layout::from_size_align_unchecked(old_size, align), new_size)
    };
    if p.is_null() {
        core::arch::wasm32::unreachable();
    }
    p
}

unsafe fn take_list(ptr: *mut u8, len: usize) -> Vec<u8> {
    if len == 0 {
        Vec::new()
    } else {
        Vec::from_raw_parts(ptr, len, len)
    }
}

fn give_list(v: Vec<u8>) -> (u32, u32) {
    let mut b = v.into_boxed_slice();
    let len = b.len();
    let ptr = b.as_mut_ptr();
    core::mem::forget(b);
    (ptr as u32, len as u32)
}

unsafe fn free_list(ptr: u32, len: u32) {
    if len != 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(len as usize, 1));
    }
}

// ---- raw memory ----

#[export_name = "alloc"]
pub unsafe extern "C" fn export_alloc(size: u32) -> u32 {
    alloc(Layout::from_size_align_unchecked(size.max(1) as usize, 8)) as u32
}

#[export_name = "dealloc"]
pub unsafe extern "C" fn export_dealloc(ptr: u32, size: u32) {
    dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(size.max(1) as usize, 8))
}

// ---- SHA-256 ----

#[export_name = "sha256-new"]
pub extern "C" fn sha256_new() -> u32 {
    Box::into_raw(Box::new(sha256::Sha256::new())) as u32
}

#[export_name = "sha256-update"]
pub unsafe extern "C" fn sha256_update(h: u32, ptr: u32, len: u32) {
    let s = &mut *(h as *mut sha256::Sha256);
    s.update(core::slice::from_raw_parts(ptr as *const u8, len as usize));
}

#[export_name = "sha256-finish"]
pub unsafe extern "C" fn sha256_finish(h: u32, out: u32) {
    let mut s = Box::from_raw(h as *mut sha256::Sha256);
    let d = s.finish();
    core::ptr::copy_nonoverlapping(d.as_ptr(), out as *mut u8, 32);
}

#[export_name = "sha256"]
pub unsafe extern "C" fn sha256_list(ptr: *mut u8, len: usize) -> *mut u32 {
    let data = take_list(ptr, len);
    let mut s = sha256::Sha256::new();
    s.update(&data);
    let (p, l) = give_list(s.finish().to_vec());
    let r = ret_area();
    *r = p;
    *r.add(1) = l;
    r
}

#[export_name = "cabi_post_sha256"]
pub unsafe extern "C" fn sha256_post(r: *mut u32) {
    free_list(*r, *r.add(1));
}

// ---- decompression streams ----

pub enum Stream {
    Gz(inflate::Inflate),
    Zs(zstd::Zstd),
    Ze(zstd_enc::ZstdEnc),
}

/// A zstd compression stream (content checksums on), driven by the stream-* functions.
#[export_name = "zstd-compress-new"]
pub extern "C" fn zstd_compress_new(level: i32) -> u32 {
    Box::into_raw(Box::new(Stream::Ze(zstd_enc::ZstdEnc::new(level)))) as u32
}

#[export_name = "stream-new"]
pub extern "C" fn stream_new(kind: u32) -> u32 {
    let s = match kind {
        KIND_GZIP => Stream::Gz(inflate::Inflate::new(false)),
        KIND_GZIP_HOST_CRC => Stream::Gz(inflate::Inflate::new(true)),
        KIND_ZSTD => Stream::Zs(zstd::Zstd::new()),
        _ => return 0,
    };
    Box::into_raw(Box::new(s)) as u32
}

#[export_name = "stream-in-ptr"]
pub unsafe extern "C" fn stream_in_ptr(h: u32, len: u32) -> u32 {
    match &mut *(h as *mut Stream) {
        Stream::Gz(g) => g.in_ptr(len as usize) as u32,
        Stream::Zs(z) => z.in_ptr(len as usize) as u32,
        Stream::Ze(z) => z.in_ptr(len as usize) as u32,
    }
}

/// 1: output ready (read it, then call again with len 0), 0: needs input, 2: finished,
/// 3: (host-CRC gzip) output ready and a member ended: check its CRC32 against
/// stream-member-crc, then call again; -1: error.
#[export_name = "stream-run"]
pub unsafe extern "C" fn stream_run(h: u32, len: u32, finish: u32) -> i32 {
    match &mut *(h as *mut Stream) {
        Stream::Gz(g) => g.run(len as usize, finish != 0),
        Stream::Zs(z) => z.run(len as usize, finish != 0),
        Stream::Ze(z) => z.run(len as usize, finish != 0),
    }
}

#[export_name = "stream-member-crc"]
pub unsafe extern "C" fn stream_member_crc(h: u32) -> u32 {
    match &*(h as *mut Stream) {
        Stream::Gz(g) => g.member_crc,
        _ => 0,
    }
}

#[export_name = "stream-out-ptr"]
pub unsafe extern "C" fn stream_out_ptr(h: u32) -> u32 {
    match &*(h as *mut Stream) {
        Stream::Gz(g) => g.out().0 as u32,
        Stream::Zs(z) => z.out().0 as u32,
        Stream::Ze(z) => z.out().0 as u32,
    }
}

#[export_name = "stream-out-len"]
pub unsafe extern "C" fn stream_out_len(h: u32) -> u32 {
    match &*(h as *mut Stream) {
        Stream::Gz(g) => g.out().1 as u32,
        Stream::Zs(z) => z.out().1 as u32,
        Stream::Ze(z) => z.out().1 as u32,
    }
}

#[export_name = "stream-error"]
pub unsafe extern "C" fn stream_error(h: u32) -> *mut u32 {
    let e = match &*(h as *mut Stream) {
        Stream::Gz(g) => &g.err,
        Stream::Zs(z) => &z.err,
        Stream::Ze(z) => &z.err,
    };
    let r = ret_area();
    *r = e.as_ptr() as u32;
    *r.add(1) = e.len() as u32;
    r
}

#[export_name = "stream-free"]
pub unsafe extern "C" fn stream_free(h: u32) {
    drop(Box::from_raw(h as *mut Stream));
}

/// One-shot decompression of a whole buffer: result<list<u8>, string>.
#[export_name = "decompress"]
pub unsafe extern "C" fn decompress(kind: u32, ptr: *mut u8, len: usize) -> *mut u32 {
    let data = take_list(ptr, len);
    let r = ret_area();
    let h = stream_new(kind);
    let mut out = Vec::new();
    let res: Result<(), String> = if h == 0 {
        Err(format!("unknown stream kind {}", kind))
    } else {
        let p = stream_in_ptr(h, data.len() as u32) as *mut u8;
        core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len());
        let mut added = data.len() as u32;
        loop {
            let st = stream_run(h, added, 1);
            added = 0;
            if st == 1 || st == 3 {
                let (op, ol) = (stream_out_ptr(h), stream_out_len(h));
                out.extend_from_slice(core::slice::from_raw_parts(op as *const u8, ol as usize));
            } else if st == 2 {
                break Ok(());
            } else {
                let e = stream_error(h);
                let s = core::slice::from_raw_parts(*e as *const u8, *e.add(1) as usize);
                break Err(String::from_utf8_lossy(s).into_owned());
            }
        }
    };
    if h != 0 {
        stream_free(h);
    }
    let (tag, v) = match res {
        Ok(()) => (0u32, out),
        Err(e) => (1u32, e.into_bytes()),
    };
    let (p, l) = give_list(v);
    *r = tag;
    *r.add(1) = p;
    *r.add(2) = l;
    r
}

#[export_name = "cabi_post_decompress"]
pub unsafe extern "C" fn decompress_post(r: *mut u32) {
    free_list(*r.add(1), *r.add(2));
}
