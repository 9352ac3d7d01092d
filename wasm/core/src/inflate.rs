//! Streaming gzip inflater (RFC 1951/1952) built for speed in wasm32:
//! a 64-bit bit buffer refilled branch-free, wide two-level Huffman tables
//! (10-bit literal/length, 8-bit distance main tables), up to three literals
//! decoded per refill, and word-at-a-time match copies.
//!
//! Streaming works by suspending only at symbol boundaries: the fast loop runs while
//! at least 32 bytes of input remain (or the input is final, when the zero padding
//! beyond the end is read and over-reads are detected afterwards); block headers are
//! parsed only with 1 KiB of lookahead (a dynamic header is at most ~570 bytes).
use crate::crc32;

const TB_LIT: u32 = 10;
const TB_DIST: u32 = 8;
const LIT_TABLE: usize = (1 << TB_LIT) + 288 * 32;
const DIST_TABLE: usize = (1 << TB_DIST) + 32 * 128;

const F_LIT: u32 = 1 << 8;
const F_EOB: u32 = 1 << 9;
const F_SUB: u32 = 1 << 10;
const F_BAD: u32 = 1 << 11;

const WSIZE: usize = 32 * 1024;
const OUT_CHUNK: usize = 256 * 1024;
const OUT_LIMIT: usize = WSIZE + OUT_CHUNK;
const BUF_SIZE: usize = OUT_LIMIT + 320;
const MARGIN: usize = 1024;
pub const PAD: usize = 64;
const MAX_HEADER: usize = 1 << 20;

static LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
static LEN_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
static DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
    6145, 8193, 12289, 16385, 24577,
];
static DIST_EXTRA: [u8; 30] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
static CL_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

#[derive(PartialEq, Clone, Copy)]
enum St {
    GzHeader,
    BlockHeader,
    Huff,
    Stored,
    Trailer,
    Done,
}

pub enum Wait {
    Input,
    Output,
    Done,
    /// host-CRC mode: a member ended; its expected CRC32 is in `member_crc`.
    Member,
}

type R<T> = Result<T, &'static str>;

fn lit_entry(sym: usize) -> u32 {
    if sym < 256 {
        ((sym as u32) << 16) | F_LIT
    } else if sym == 256 {
        F_EOB
    } else if sym < 286 {
        ((LEN_BASE[sym - 257] as u32) << 16) | ((LEN_EXTRA[sym - 257] as u32) << 12)
    } else {
        F_BAD
    }
}

fn dist_entry(sym: usize) -> u32 {
    if sym < 30 {
        ((DIST_BASE[sym] as u32) << 16) | ((DIST_EXTRA[sym] as u32) << 12)
    } else {
        F_BAD
    }
}

fn pre_entry(sym: usize) -> u32 {
    (sym as u32) << 16
}

/// Build a two-level decoding table. Entries: value<<16 | extra<<12 | flags | bits.
fn build(table: &mut [u32], lens: &[u8], tb: u32, entry: fn(usize) -> u32, what: &'static str) -> R<()> {
    let mut count = [0u16; 16];
    for &l in lens {
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut left: i32 = 1;
    let mut max_len = 0;
    for len in 1..16 {
        left <<= 1;
        left -= count[len] as i32;
        if left < 0 {
            return Err(what);
        }
        if count[len] > 0 {
            max_len = len;
        }
    }
    let main = 1usize << tb;
    for e in table[..main].iter_mut() {
        *e = F_BAD;
    }
    if max_len == 0 {
        return Ok(());
    }
    if left > 0 && max_len != 1 {
        return Err(what);
    }
    let mut offs = [0u16; 17];
    for len in 1..16 {
        offs[len + 1] = offs[len] + count[len];
    }
    let mut sorted = [0u16; 320];
    for (s, &l) in lens.iter().enumerate() {
        if l != 0 {
            sorted[offs[l as usize] as usize] = s as u16;
            offs[l as usize] += 1;
        }
    }
    let sub_bits = if max_len as u32 > tb { max_len as u32 - tb } else { 0 };
    let mut next_sub = main;
    let mut code: u32 = 0;
    let mut idx = 0usize;
    for len in 1..=max_len {
        for _ in 0..count[len] {
            let sym = sorted[idx] as usize;
            idx += 1;
            let rev = ((code as u16).reverse_bits() >> (16 - len)) as usize;
            let e = entry(sym);
            if len as u32 <= tb {
                let mut k = rev;
                while k < main {
                    table[k] = e | len as u32;
                    k += 1 << len;
                }
            } else {
                let prefix = rev & (main - 1);
                let start = if table[prefix] & F_SUB != 0 {
                    (table[prefix] >> 16) as usize
                } else {
                    let s = next_sub;
                    next_sub += 1 << sub_bits;
                    if next_sub > table.len() {
                        return Err(what);
                    }
                    table[prefix] = ((s as u32) << 16) | (sub_bits << 12) | F_SUB | tb;
                    s
                };
                let mut k = rev >> tb;
                let step = 1usize << (len as u32 - tb);
                while k < (1 << sub_bits) {
                    table[start + k] = e | (len as u32 - tb);
                    k += step;
                }
            }
            code += 1;
        }
        code <<= 1;
    }
    Ok(())
}

pub struct Inflate {
    pub inbuf: Vec<u8>,
    ip: usize,
    pub iend: usize,
    fin: bool,
    bb: u64,
    bl: u32,
    pub win: Vec<u8>,
    op: usize,
    pub out_read: usize,
    valid_from: usize,
    crc_pos: usize,
    st: St,
    last_block: bool,
    stored_left: usize,
    crc: u32,
    member_out: u32,
    members: u32,
    /// The host computes CRC32 over the output (faster, e.g. zlib's SIMD crc32) and
    /// checks it against `member_crc` at each member end; ISIZE is still checked here.
    host_crc: bool,
    pub member_crc: u32,
    lit: Vec<u32>,
    dist: Vec<u32>,
    pub err: String,
}

#[inline(always)]
unsafe fn rd64(p: *const u8) -> u64 {
    u64::from_le(core::ptr::read_unaligned(p as *const u64))
}

impl Inflate {
    pub fn new(host_crc: bool) -> Self {
        Inflate {
            host_crc,
            member_crc: 0,
            inbuf: vec![0; 64 * 1024 + PAD],
            ip: 0,
            iend: 0,
            fin: false,
            bb: 0,
            bl: 0,
            win: vec![0; BUF_SIZE],
            op: 0,
            out_read: 0,
            valid_from: 0,
            crc_pos: 0,
            st: St::GzHeader,
            last_block: false,
            stored_left: 0,
            crc: 0,
            member_out: 0,
            members: 0,
            lit: vec![0; LIT_TABLE],
            dist: vec![0; DIST_TABLE],
            err: String::new(),
        }
    }

    /// Make room for `len` more input bytes; returns their offset in `inbuf`.
    pub fn in_ptr(&mut self, len: usize) -> *mut u8 {
        if self.ip > 0 {
            self.inbuf.copy_within(self.ip..self.iend, 0);
            self.iend -= self.ip;
            self.ip = 0;
        }
        let need = self.iend + len + PAD;
        if self.inbuf.len() < need {
            self.inbuf.resize(need, 0);
        }
        unsafe { self.inbuf.as_mut_ptr().add(self.iend) }
    }

    pub fn out(&self) -> (*const u8, usize) {
        unsafe { (self.win.as_ptr().add(self.out_read), self.op - self.out_read) }
    }

    /// Returns 1 output ready, 0 needs input, 2 finished, -1 error.
    pub fn run(&mut self, added: usize, finish: bool) -> i32 {
        if !self.err.is_empty() {
            return -1;
        }
        self.iend += added;
        if self.inbuf.len() < self.iend + PAD {
            self.inbuf.resize(self.iend + PAD, 0);
        }
        for b in &mut self.inbuf[self.iend..self.iend + PAD] {
            *b = 0;
        }
        if finish {
            self.fin = true;
        }
        self.out_read = self.op;
        if self.op > OUT_LIMIT {
            self.slide();
        }
        let r = self.decode();
        let r = match r {
            Ok(w) => {
                self.unread();
                if self.ip > self.iend {
                    Err("unexpected end of compressed data")
                } else {
                    match w {
                        Wait::Input if self.fin => Err("unexpected end of compressed data"),
                        w => Ok(w),
                    }
                }
            }
            Err(e) => Err(e),
        };
        match r {
            Err(e) => {
                self.err = format!("gzip: {}", e);
                -1
            }
            Ok(w) => {
                self.flush_crc();
                if let Wait::Member = w {
                    3
                } else if self.op > self.out_read {
                    1
                } else if let Wait::Done = w {
                    2
                } else {
                    0
                }
            }
        }
    }

    fn flush_crc(&mut self) {
        if self.op > self.crc_pos {
            if !self.host_crc {
                self.crc = crc32::update(self.crc, &self.win[self.crc_pos..self.op]);
            }
            self.member_out = self.member_out.wrapping_add((self.op - self.crc_pos) as u32);
            self.crc_pos = self.op;
        }
    }

    fn slide(&mut self) {
        self.flush_crc();
        let delta = self.op - WSIZE;
        self.win.copy_within(delta..self.op, 0);
        self.op = WSIZE;
        self.crc_pos = WSIZE;
        self.out_read = WSIZE;
        self.valid_from = self.valid_from.saturating_sub(delta);
    }

    fn unread(&mut self) {
        let bytes = (self.bl >> 3) as usize;
        self.ip -= bytes;
        self.bl &= 7;
        self.bb &= (1u64 << self.bl) - 1;
    }

    #[inline(always)]
    fn need(&mut self, n: u32) -> R<()> {
        if self.bl < n {
            if self.ip > self.iend + 16 {
                return Err("unexpected end of compressed data");
            }
            unsafe {
                self.bb |= rd64(self.inbuf.as_ptr().add(self.ip)) << self.bl;
            }
            self.ip += ((63 - self.bl) >> 3) as usize;
            self.bl |= 56;
        }
        Ok(())
    }

    #[inline(always)]
    fn bits(&mut self, n: u32) -> R<u32> {
        self.need(n)?;
        let v = (self.bb & ((1u64 << n) - 1)) as u32;
        self.bb >>= n;
        self.bl -= n;
        Ok(v)
    }

    fn decode(&mut self) -> R<Wait> {
        loop {
            match self.st {
                St::GzHeader => {
                    if !self.gz_header()? {
                        return Ok(if self.st == St::Done { Wait::Done } else { Wait::Input });
                    }
                }
                St::BlockHeader => {
                    if !self.fin && self.iend - self.ip < MARGIN {
                        return Ok(Wait::Input);
                    }
                    self.block_header()?;
                }
                St::Huff => match unsafe { self.huff()? } {
                    Some(w) => return Ok(w),
                    None => {}
                },
                St::Stored => {
                    if self.stored_left == 0 {
                        self.st = if self.last_block { St::Trailer } else { St::BlockHeader };
                        continue;
                    }
                    let room = (OUT_LIMIT + 1).saturating_sub(self.op);
                    if room == 0 {
                        return Ok(Wait::Output);
                    }
                    let avail = self.iend - self.ip;
                    if avail == 0 {
                        return Ok(Wait::Input);
                    }
                    let n = self.stored_left.min(room).min(avail);
                    self.win[self.op..self.op + n].copy_from_slice(&self.inbuf[self.ip..self.ip + n]);
                    self.op += n;
                    self.ip += n;
                    self.stored_left -= n;
                }
                St::Trailer => {
                    self.bb >>= self.bl & 7;
                    self.bl -= self.bl & 7;
                    self.unread();
                    if self.iend - self.ip < 8 {
                        return Ok(Wait::Input);
                    }
                    self.flush_crc();
                    let t = &self.inbuf[self.ip..self.ip + 8];
                    let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
                    let isize = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
                    if !self.host_crc && crc != self.crc {
                        return Err("CRC32 mismatch: the data is corrupt");
                    }
                    if isize != self.member_out {
                        return Err("length (ISIZE) mismatch: the data is corrupt");
                    }
                    self.ip += 8;
                    self.members += 1;
                    self.st = St::GzHeader;
                    if self.host_crc {
                        self.member_crc = crc;
                        return Ok(Wait::Member);
                    }
                }
                St::Done => return Ok(Wait::Done),
            }
        }
    }

    /// Parse a member header. Ok(false) when more input is needed or the stream ended.
    fn gz_header(&mut self) -> R<bool> {
        let avail = &self.inbuf[self.ip..self.iend];
        if self.members > 0 {
            // Between members: end of stream, zero padding, or another member.
            if avail.is_empty() {
                if self.fin {
                    self.st = St::Done;
                }
                return Ok(false);
            }
            if avail[0] == 0 {
                if avail.iter().any(|&b| b != 0) {
                    return Err("trailing garbage after the compressed data");
                }
                self.ip = self.iend;
                if self.fin {
                    self.st = St::Done;
                }
                return Ok(false);
            }
            if avail[0] != 0x1f || (avail.len() > 1 && avail[1] != 0x8b) {
                return Err("trailing garbage after the compressed data");
            }
        } else if avail.is_empty() && self.fin {
            return Err("empty input: not in gzip format");
        }
        let more = |fin: bool, len: usize| -> R<bool> {
            if fin {
                Err("unexpected end of data in the gzip header")
            } else if len > MAX_HEADER {
                Err("gzip header too large")
            } else {
                Ok(false)
            }
        };
        if avail.len() < 10 {
            if avail.len() >= 2 && (avail[0] != 0x1f || avail[1] != 0x8b) {
                return Err("not in gzip format");
            }
            return more(self.fin, avail.len());
        }
        if avail[0] != 0x1f || avail[1] != 0x8b {
            return Err("not in gzip format");
        }
        if avail[2] != 8 {
            return Err("unknown compression method");
        }
        let flg = avail[3];
        if flg & 0xe0 != 0 {
            return Err("reserved header flags are set");
        }
        let mut pos = 10;
        if flg & 4 != 0 {
            if avail.len() < pos + 2 {
                return more(self.fin, avail.len());
            }
            let xlen = u16::from_le_bytes([avail[pos], avail[pos + 1]]) as usize;
            pos += 2 + xlen;
            if avail.len() < pos {
                return more(self.fin, avail.len());
            }
        }
        for bit in [8u8, 16u8] {
            if flg & bit != 0 {
                match avail[pos..].iter().position(|&b| b == 0) {
                    Some(i) => pos += i + 1,
                    None => return more(self.fin, avail.len()),
                }
            }
        }
        if flg & 2 != 0 {
            pos += 2;
            if avail.len() < pos {
                return more(self.fin, avail.len());
            }
        }
        self.ip += pos;
        self.bb = 0;
        self.bl = 0;
        self.crc = 0;
        self.member_out = 0;
        self.valid_from = self.op;
        self.last_block = false;
        self.st = St::BlockHeader;
        Ok(true)
    }

    fn block_header(&mut self) -> R<()> {
        let h = self.bits(3)?;
        self.last_block = h & 1 != 0;
        match h >> 1 {
            0 => {
                self.bb >>= self.bl & 7;
                self.bl -= self.bl & 7;
                self.unread();
                if self.iend - self.ip < 4 {
                    return Err("unexpected end of compressed data");
                }
                let t = &self.inbuf[self.ip..self.ip + 4];
                let len = u16::from_le_bytes([t[0], t[1]]);
                let nlen = u16::from_le_bytes([t[2], t[3]]);
                if len != !nlen {
                    return Err("invalid stored block lengths");
                }
                self.ip += 4;
                self.stored_left = len as usize;
                self.st = St::Stored;
            }
            1 => {
                let mut lens = [0u8; 320];
                for (i, l) in lens[..288].iter_mut().enumerate() {
                    *l = if i < 144 {
                        8
                    } else if i < 256 {
                        9
                    } else if i < 280 {
                        7
                    } else {
                        8
                    };
                }
                build(&mut self.lit, &lens[..288], TB_LIT, lit_entry, "invalid literal/length code lengths")?;
                for l in lens[..32].iter_mut() {
                    *l = 5;
                }
                build(&mut self.dist, &lens[..32], TB_DIST, dist_entry, "invalid distance code lengths")?;
                self.st = St::Huff;
            }
            2 => {
                let hlit = self.bits(5)? as usize + 257;
                let hdist = self.bits(5)? as usize + 1;
                let hclen = self.bits(4)? as usize + 4;
                if hlit > 286 || hdist > 30 {
                    return Err("too many length or distance symbols");
                }
                let mut cl = [0u8; 19];
                for &i in &CL_ORDER[..hclen] {
                    cl[i] = self.bits(3)? as u8;
                }
                let mut pre = [0u32; 128];
                build(&mut pre, &cl, 7, pre_entry, "invalid code lengths set")?;
                let mut lens = [0u8; 320];
                let total = hlit + hdist;
                let mut i = 0;
                while i < total {
                    self.need(14)?;
                    let e = pre[(self.bb & 127) as usize];
                    if e & F_BAD != 0 {
                        return Err("invalid code lengths set");
                    }
                    let n = e & 0xff;
                    self.bb >>= n;
                    self.bl -= n;
                    let sym = (e >> 16) as u8;
                    if sym < 16 {
                        lens[i] = sym;
                        i += 1;
                        continue;
                    }
                    let (rep, val) = match sym {
                        16 => {
                            if i == 0 {
                                return Err("invalid bit length repeat");
                            }
                            (3 + self.bits(2)? as usize, lens[i - 1])
                        }
                        17 => (3 + self.bits(3)? as usize, 0),
                        _ => (11 + self.bits(7)? as usize, 0),
                    };
                    if i + rep > total {
                        return Err("invalid bit length repeat");
                    }
                    for l in &mut lens[i..i + rep] {
                        *l = val;
                    }
                    i += rep;
                }
                if lens[256] == 0 {
                    return Err("invalid code: missing end-of-block");
                }
                build(&mut self.lit, &lens[..hlit], TB_LIT, lit_entry, "invalid literal/lengths set")?;
                build(&mut self.dist, &lens[hlit..total], TB_DIST, dist_entry, "invalid distances set")?;
                self.st = St::Huff;
            }
            _ => return Err("invalid block type"),
        }
        Ok(())
    }

    /// The hot loop. Returns None at end of block, Some(wait) when suspended.
    #[inline(never)]
    unsafe fn huff(&mut self) -> R<Option<Wait>> {
        let inp = self.inbuf.as_ptr();
        let out = self.win.as_mut_ptr();
        let lit = self.lit.as_ptr();
        let dt = self.dist.as_ptr();
        let mut ip = self.ip;
        let mut op = self.op;
        let mut bb = self.bb;
        let mut bl = self.bl;
        let valid_from = self.valid_from;
        let in_limit = if self.fin {
            self.iend + 16
        } else if self.iend >= 32 {
            self.iend - 32
        } else {
            return Ok(Some(Wait::Input));
        };
        const LMASK: u64 = (1 << TB_LIT) - 1;
        const DMASK: u64 = (1 << TB_DIST) - 1;
        macro_rules! refill {
            () => {
                bb |= rd64(inp.add(ip)) << bl;
                ip += ((63 - bl) >> 3) as usize;
                bl |= 56;
            };
        }
        macro_rules! lookup {
            () => {{
                let mut e = *lit.add((bb & LMASK) as usize);
                if e & F_SUB != 0 {
                    bb >>= TB_LIT;
                    bl -= TB_LIT;
                    e = *lit.add(((e >> 16) as u64 + (bb & ((1u64 << ((e >> 12) & 15)) - 1))) as usize);
                }
                e
            }};
        }
        macro_rules! save {
            () => {
                self.ip = ip;
                self.op = op;
                self.bb = bb;
                self.bl = bl;
            };
        }
        loop {
            if ip > in_limit {
                save!();
                return Ok(Some(Wait::Input));
            }
            if op > OUT_LIMIT {
                save!();
                return Ok(Some(Wait::Output));
            }
            refill!();
            let mut e = lookup!();
            if e & F_LIT != 0 {
                bb >>= e & 0xff;
                bl -= e & 0xff;
                *out.add(op) = (e >> 16) as u8;
                op += 1;
                e = lookup!();
                if e & F_LIT != 0 {
                    bb >>= e & 0xff;
                    bl -= e & 0xff;
                    *out.add(op) = (e >> 16) as u8;
                    op += 1;
                    e = lookup!();
                    if e & F_LIT != 0 {
                        bb >>= e & 0xff;
                        bl -= e & 0xff;
                        *out.add(op) = (e >> 16) as u8;
                        op += 1;
                        continue;
                    }
                }
            }
            if e & (F_EOB | F_BAD) != 0 {
                if e & F_BAD != 0 {
                    save!();
                    return Err("invalid literal/length code");
                }
                bb >>= e & 0xff;
                bl -= e & 0xff;
                save!();
                self.st = if self.last_block { St::Trailer } else { St::BlockHeader };
                return Ok(None);
            }
            if bl < 48 {
                refill!();
            }
            bb >>= e & 0xff;
            bl -= e & 0xff;
            let x = (e >> 12) & 15;
            let length = (e >> 16) as usize + (bb & ((1u64 << x) - 1)) as usize;
            bb >>= x;
            bl -= x;
            let mut d = *dt.add((bb & DMASK) as usize);
            if d & F_SUB != 0 {
                bb >>= TB_DIST;
                bl -= TB_DIST;
                d = *dt.add(((d >> 16) as u64 + (bb & ((1u64 << ((d >> 12) & 15)) - 1))) as usize);
            }
            if d & F_BAD != 0 {
                save!();
                return Err("invalid distance code");
            }
            bb >>= d & 0xff;
            bl -= d & 0xff;
            let dx = (d >> 12) & 15;
            let dist = (d >> 16) as usize + (bb & ((1u64 << dx) - 1)) as usize;
            bb >>= dx;
            bl -= dx;
            if dist > op - valid_from {
                save!();
                return Err("invalid distance too far back");
            }
            let mut src = out.add(op - dist);
            let mut dst = out.add(op);
            let end = dst.add(length);
            if dist >= 8 {
                loop {
                    core::ptr::write_unaligned(dst as *mut u64, core::ptr::read_unaligned(src as *const u64));
                    src = src.add(8);
                    dst = dst.add(8);
                    if dst >= end {
                        break;
                    }
                }
            } else if dist == 1 {
                let v = (*src as u64).wrapping_mul(0x0101_0101_0101_0101);
                loop {
                    core::ptr::write_unaligned(dst as *mut u64, v);
                    dst = dst.add(8);
                    if dst >= end {
                        break;
                    }
                }
            } else {
                while dst < end {
                    *dst = *src;
                    dst = dst.add(1);
                    src = src.add(1);
                }
            }
            op += length;
        }
    }
}
