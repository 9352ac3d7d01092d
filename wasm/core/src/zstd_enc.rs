//! Streaming zstd compression through zstd's own C compressor (single-threaded),
//! with content checksums, for writing zstd layers.
use std::ffi::CStr;
use std::os::raw::{c_char, c_void};

#[repr(C)]
struct InBuf {
    src: *const u8,
    size: usize,
    pos: usize,
}

#[repr(C)]
struct OutBuf {
    dst: *mut u8,
    size: usize,
    pos: usize,
}

extern "C" {
    fn tspod_zstd_create_c(
        alloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
        free: unsafe extern "C" fn(*mut c_void, *mut c_void),
    ) -> *mut c_void;
    fn ZSTD_freeCStream(c: *mut c_void) -> usize;
    fn ZSTD_CCtx_setParameter(c: *mut c_void, param: i32, value: i32) -> usize;
    fn ZSTD_compressStream2(c: *mut c_void, out: *mut OutBuf, inp: *mut InBuf, end: i32) -> usize;
    fn ZSTD_isError(code: usize) -> u32;
    fn ZSTD_getErrorName(code: usize) -> *const c_char;
}

const ZSTD_C_COMPRESSION_LEVEL: i32 = 100;
const ZSTD_C_CHECKSUM_FLAG: i32 = 201;
const ZSTD_E_CONTINUE: i32 = 0;
const ZSTD_E_END: i32 = 2;
const OUT_SIZE: usize = 256 * 1024;

pub struct ZstdEnc {
    c: *mut c_void,
    pub inbuf: Vec<u8>,
    ip: usize,
    pub iend: usize,
    fin: bool,
    done: bool,
    out: Vec<u8>,
    pub out_len: usize,
    pub err: String,
}

impl ZstdEnc {
    pub fn new(level: i32) -> Self {
        let c = unsafe { tspod_zstd_create_c(crate::libc::zalloc, crate::libc::zfree) };
        if c.is_null() {
            core::arch::wasm32::unreachable();
        }
        unsafe {
            ZSTD_CCtx_setParameter(c, ZSTD_C_COMPRESSION_LEVEL, level);
            ZSTD_CCtx_setParameter(c, ZSTD_C_CHECKSUM_FLAG, 1);
        }
        ZstdEnc {
            c,
            inbuf: vec![0; 64 * 1024],
            ip: 0,
            iend: 0,
            fin: false,
            done: false,
            out: vec![0; OUT_SIZE],
            out_len: 0,
            err: String::new(),
        }
    }

    pub fn in_ptr(&mut self, len: usize) -> *mut u8 {
        if self.ip > 0 {
            self.inbuf.copy_within(self.ip..self.iend, 0);
            self.iend -= self.ip;
            self.ip = 0;
        }
        if self.inbuf.len() < self.iend + len {
            self.inbuf.resize(self.iend + len, 0);
        }
        unsafe { self.inbuf.as_mut_ptr().add(self.iend) }
    }

    pub fn out(&self) -> (*const u8, usize) {
        (self.out.as_ptr(), self.out_len)
    }

    pub fn run(&mut self, added: usize, finish: bool) -> i32 {
        if !self.err.is_empty() {
            return -1;
        }
        self.iend += added;
        if finish {
            self.fin = true;
        }
        self.out_len = 0;
        if self.done {
            return 2;
        }
        loop {
            let mut ib = InBuf { src: self.inbuf.as_ptr(), size: self.iend, pos: self.ip };
            let mut ob = OutBuf { dst: self.out.as_mut_ptr(), size: self.out.len(), pos: self.out_len };
            let mode = if self.fin { ZSTD_E_END } else { ZSTD_E_CONTINUE };
            let r = unsafe { ZSTD_compressStream2(self.c, &mut ob, &mut ib, mode) };
            self.ip = ib.pos;
            self.out_len = ob.pos;
            if unsafe { ZSTD_isError(r) } != 0 {
                let name = unsafe { CStr::from_ptr(ZSTD_getErrorName(r)) }.to_string_lossy();
                self.err = format!("zstd: {}", name);
                return -1;
            }
            if self.fin && r == 0 && self.ip == self.iend {
                self.done = true;
                return if self.out_len > 0 { 1 } else { 2 };
            }
            if ob.pos == ob.size {
                return 1;
            }
            if !self.fin && self.ip == self.iend {
                return if self.out_len > 0 { 1 } else { 0 };
            }
        }
    }
}

impl Drop for ZstdEnc {
    fn drop(&mut self) {
        unsafe {
            ZSTD_freeCStream(self.c);
        }
    }
}
