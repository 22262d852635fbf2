//! A minimal GGUF (v2/v3) reader: metadata values, tensor directory, and tensor bytes, with clear errors for
//! truncated or corrupted files (every length and offset is checked against the file size).
use std::collections::BTreeMap;

/// A metadata value (arrays keep their element count and, for strings, the strings).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i128),
    F32(f32),
    F64(f64),
    Bool(bool),
    Str(String),
    Array(Vec<Value>),
}

impl Value {
    pub fn as_usize(&self) -> Option<usize> {
        match self {
            Value::Int(i) => usize::try_from(*i).ok(),
            _ => None,
        }
    }
    pub fn as_f32(&self) -> Option<f32> {
        match self {
            Value::F32(f) => Some(*f),
            Value::F64(f) => Some(*f as f32),
            Value::Int(i) => Some(*i as f32),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A tensor's directory entry.
#[derive(Clone, Debug)]
pub struct TensorInfo {
    pub ggml_type: u32,
    /// ggml order (fastest-varying first).
    pub dims: Vec<usize>,
    /// Absolute offset of its data in the file.
    pub start: usize,
    pub len: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("not a GGUF file (bad magic)")]
    Magic,
    #[error("unsupported GGUF version {0}")]
    Version(u32),
    #[error("GGUF truncated or corrupted at byte {0}")]
    Truncated(usize),
    #[error("GGUF metadata type {0} unknown")]
    MetaType(u32),
    #[error("tensor `{name}` of GGUF type {ty} has no known size")]
    TensorType { name: String, ty: u32 },
}

/// The parsed header of a GGUF file held in memory.
pub struct Gguf {
    pub meta: BTreeMap<String, Value>,
    pub tensors: BTreeMap<String, TensorInfo>,
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], GgufError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len()).ok_or(GgufError::Truncated(self.at))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| GgufError::Truncated(self.at))?))
    }
    fn u64(&mut self) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| GgufError::Truncated(self.at))?))
    }
    fn len(&mut self) -> Result<usize, GgufError> {
        let at = self.at;
        usize::try_from(self.u64()?).ok().filter(|&n| n <= self.b.len()).ok_or(GgufError::Truncated(at))
    }
    fn string(&mut self) -> Result<String, GgufError> {
        let n = self.len()?;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
    fn value(&mut self, ty: u32) -> Result<Value, GgufError> {
        let int = |b: &[u8], signed: bool| -> i128 {
            let mut v = [0u8; 16];
            v[..b.len()].copy_from_slice(b);
            let u = u128::from_le_bytes(v);
            let bits = 8 * b.len() as u32;
            if signed && (u >> (bits - 1)) & 1 == 1 {
                (u as i128) - (1i128 << bits)
            } else {
                u as i128
            }
        };
        Ok(match ty {
            0 | 1 => Value::Int(int(self.take(1)?, ty == 1)),
            2 | 3 => Value::Int(int(self.take(2)?, ty == 3)),
            4 | 5 => Value::Int(int(self.take(4)?, ty == 5)),
            10 | 11 => Value::Int(int(self.take(8)?, ty == 11)),
            6 => Value::F32(f32::from_bits(self.u32()?)),
            12 => Value::F64(f64::from_bits(self.u64()?)),
            7 => Value::Bool(self.take(1)?[0] != 0),
            8 => Value::Str(self.string()?),
            9 => {
                let et = self.u32()?;
                let n = self.len()?;
                let mut v = Vec::with_capacity(n.min(1 << 20));
                for _ in 0..n {
                    v.push(self.value(et)?);
                }
                Value::Array(v)
            }
            t => return Err(GgufError::MetaType(t)),
        })
    }
}

/// (elements per block, bytes per block) of the ggml types this reader sizes.
fn type_size(ty: u32) -> Option<(usize, usize)> {
    match ty {
        0 => Some((1, 4)),   // F32
        1 => Some((1, 2)),   // F16
        2 => Some((32, 18)), // Q4_0
        3 => Some((32, 20)), // Q4_1
        6 => Some((32, 22)), // Q5_0
        7 => Some((32, 24)), // Q5_1
        8 => Some((32, 34)), // Q8_0
        10 => Some((256, 84)),
        11 => Some((256, 110)),
        12 => Some((256, 144)),
        13 => Some((256, 176)),
        14 => Some((256, 210)),
        _ => None,
    }
}

impl Gguf {
    /// Parses the header of `file` (the whole file in memory).
    pub fn parse(file: &[u8]) -> Result<Gguf, GgufError> {
        let mut c = Cursor { b: file, at: 0 };
        if c.take(4)? != b"GGUF" {
            return Err(GgufError::Magic);
        }
        let version = c.u32()?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::Version(version));
        }
        let (nt, nkv) = (c.len()?, c.len()?);
        let mut meta = BTreeMap::new();
        for _ in 0..nkv {
            let k = c.string()?;
            let ty = c.u32()?;
            meta.insert(k, c.value(ty)?);
        }
        let mut infos = Vec::with_capacity(nt.min(1 << 16));
        for _ in 0..nt {
            let name = c.string()?;
            let nd = c.u32()? as usize;
            if nd > 4 {
                return Err(GgufError::Truncated(c.at));
            }
            let dims = (0..nd).map(|_| c.len()).collect::<Result<Vec<_>, _>>()?;
            let ty = c.u32()?;
            let off = c.len()?;
            infos.push((name, dims, ty, off));
        }
        let align = meta.get("general.alignment").and_then(Value::as_usize).unwrap_or(32).max(1);
        let data = c.at.div_ceil(align) * align;
        let mut tensors = BTreeMap::new();
        for (name, dims, ty, off) in infos {
            let (per, bytes) = type_size(ty).ok_or_else(|| GgufError::TensorType { name: name.clone(), ty })?;
            let n: usize = dims.iter().try_fold(1usize, |a, d| a.checked_mul(*d)).ok_or(GgufError::Truncated(off))?;
            let len = n / per * bytes;
            let start = data.checked_add(off).ok_or(GgufError::Truncated(off))?;
            if !n.is_multiple_of(per) || start.checked_add(len).is_none_or(|e| e > file.len()) {
                return Err(GgufError::Truncated(start));
            }
            tensors.insert(name, TensorInfo { ggml_type: ty, dims, start, len });
        }
        Ok(Gguf { meta, tensors })
    }

    pub fn usize(&self, key: &str) -> Option<usize> {
        self.meta.get(key).and_then(Value::as_usize)
    }
    pub fn f32(&self, key: &str) -> Option<f32> {
        self.meta.get(key).and_then(Value::as_f32)
    }
    pub fn str(&self, key: &str) -> Option<&str> {
        self.meta.get(key).and_then(Value::as_str)
    }
}
