//! Streaming zstd decoding through zstd's own C decoder (vendored under wasm/vendor/zstd,
//! compiled to wasm32 with clang and linked into this module).
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
    fn tspod_zstd_create(
        alloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
        free: unsafe extern "C" fn(*mut c_void, *mut c_void),
    ) -> *mut c_void;
    fn ZSTD_freeDStream(d: *mut c_void) -> usize;
    fn ZSTD_DCtx_setParameter(d: *mut c_void, param: i32, value: i32) -> usize;
    fn ZSTD_decompressStream(d: *mut c_void, out: *mut OutBuf, inp: *mut InBuf) -> usize;
    fn ZSTD_isError(code: usize) -> u32;
    fn ZSTD_getErrorName(code: usize) -> *const c_char;
}

const ZSTD_D_WINDOW_LOG_MAX: i32 = 100;
/// Windows up to 128 MiB, what `zstd --long=27` produces.
pub const WINDOW_LOG_MAX: i32 = 27;
const OUT_SIZE: usize = 256 * 1024;

pub enum Wait {
    Input,
    Output,
    Done,
}

pub struct Zstd {
    d: *mut c_void,
    pub inbuf: Vec<u8>,
    ip: usize,
    pub iend: usize,
    fin: bool,
    out: Vec<u8>,
    pub out_len: usize,
    frame_end: bool,
    started: bool,
    pub err: String,
}

impl Zstd {
    pub fn new() -> Self {
        let d = unsafe { tspod_zstd_create(crate::libc::zalloc, crate::libc::zfree) };
        if d.is_null() {
            core::arch::wasm32::unreachable();
        }
        unsafe {
            ZSTD_DCtx_setParameter(d, ZSTD_D_WINDOW_LOG_MAX, WINDOW_LOG_MAX);
        }
        Zstd {
            d,
            inbuf: vec![0; 64 * 1024],
            ip: 0,
            iend: 0,
            fin: false,
            out: vec![0; OUT_SIZE],
            out_len: 0,
            frame_end: false,
            started: false,
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
        match self.decode() {
            Err(e) => {
                self.err = e;
                -1
            }
            Ok(w) => {
                if self.out_len > 0 {
                    1
                } else if let Wait::Done = w {
                    2
                } else {
                    0
                }
            }
        }
    }

    fn decode(&mut self) -> Result<Wait, String> {
        loop {
            if self.ip < self.iend {
                self.started = true;
            }
            let mut ib = InBuf { src: self.inbuf.as_ptr(), size: self.iend, pos: self.ip };
            let mut ob = OutBuf { dst: self.out.as_mut_ptr(), size: self.out.len(), pos: self.out_len };
            let r = unsafe { ZSTD_decompressStream(self.d, &mut ob, &mut ib) };
            let progressed = ib.pos != self.ip || ob.pos != self.out_len;
            self.ip = ib.pos;
            self.out_len = ob.pos;
            if unsafe { ZSTD_isError(r) } != 0 {
                let name = unsafe { CStr::from_ptr(ZSTD_getErrorName(r)) }.to_string_lossy();
                let hint = if name.contains("too much memory") {
                    " (the window is larger than 128 MiB)"
                } else {
                    ""
                };
                return Err(format!("zstd: {}{}", name, hint));
            }
            // r == 0: a frame ended and is fully flushed. Calls without progress
            // (no input left) return a hint for the next frame: keep the state.
            if r == 0 {
                self.frame_end = true;
            } else if progressed {
                self.frame_end = false;
            }
            if ob.pos == ob.size {
                return Ok(Wait::Output);
            }
            if ib.pos == ib.size {
                if !self.fin {
                    return Ok(Wait::Input);
                }
                if !self.started {
                    return Err("zstd: empty input: not in zstd format".to_string());
                }
                if !self.frame_end {
                    return Err("zstd: unexpected end of compressed data".to_string());
                }
                return Ok(Wait::Done);
            }
        }
    }
}

impl Drop for Zstd {
    fn drop(&mut self) {
        unsafe {
            ZSTD_freeDStream(self.d);
        }
    }
}
