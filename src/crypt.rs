//! Heat's encryption of hidden parameters (`heat/common/crypt.py`), for reading them back.
//!
//! With `[DEFAULT] encrypt_parameters_and_properties = true`, Heat stores the value of each
//! `hidden: true` parameter of a stack's environment as `[method, data]` and lists its name
//! in the environment's `encrypted_param_names`. Whenever it loads the template
//! (`RawTemplate.from_db_object`) it decrypts them with `[DEFAULT] auth_encryption_key`,
//! whatever the option says now. Two methods exist:
//! - `cryptography_decrypt_v1` (what Heat writes today): a Fernet token; the Fernet key is
//!   the configured key (doubled when shorter than 32 characters), cut to 32 characters,
//!   its UTF-8 bytes: the first 16 sign (HMAC-SHA256), the last 16 encrypt (AES-128-CBC,
//!   PKCS#7). Heat decrypts without a time-to-live, so the token's time is not checked.
//! - `oslo_decrypt_v1` (older Heat, oslo-incubator's crypto): base64 of IV + AES-CBC, the
//!   key the configured key's first 32 characters as UTF-8 (AES-128/192/256 by its length),
//!   padded with zeros and a last byte giving the number of zeros, which Heat strips as
//!   ANSI X.923 plus one byte (so, as in Heat, a value whose length is 15 modulo 16 does
//!   not decrypt).
//!
//! Heat decrypts every listed value when it loads a stack (a wrong key fails the load);
//! heat-converge decrypts one only when a condition or an implicit rule reads it
//! ([`Unsealer`]), so a stack whose graph needs no hidden value converts without the key.
//!
//! The key and the values are secrets: nothing here prints, formats or returns them in an
//! error. [`Key`]'s `Debug` shows `***`.

use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use hmac::{KeyInit, Mac};
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// The `auth_encryption_key` Heat uses when heat.conf sets none (its option's default).
pub const HEAT_DEFAULT_KEY: &str = "notgood but just long enough i t";

/// `[DEFAULT] auth_encryption_key` as configured. Never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    pub fn new(text: impl Into<String>) -> Key {
        Key(text.into())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(***)")
    }
}

/// Why Heat's `crypt.decrypt` would not give a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A method name `heat.common.crypt` has no decryptor of ours for.
    UnknownMethod,
    /// The data does not decrypt with this key (wrong key, or damaged data).
    WrongKey,
}

/// Heat's `crypt.decrypt(method, data, key)`: the clear text of `data`.
pub fn decrypt(method: &str, data: &str, key: &str) -> Result<String, Failure> {
    let clear = match method {
        "cryptography_decrypt_v1" => fernet(data, key),
        "oslo_decrypt_v1" => oslo(data, key),
        _ => return Err(Failure::UnknownMethod),
    };
    // Heat decodes the clear bytes as UTF-8; garbage means a wrong key.
    clear
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(Failure::WrongKey)
}

/// Python's `encryption_key[:32]`: the first 32 characters (code points).
fn first_32_chars(key: &str) -> &str {
    match key.char_indices().nth(32) {
        Some((i, _)) => &key[..i],
        None => key,
    }
}

/// Python's `base64.b64decode` / `urlsafe_b64decode` (binascii's `a2b_base64`, not
/// strict), which Heat's decryptors use: only ASCII is accepted; characters outside the
/// alphabet are skipped; decoding stops at the first quad completed by padding (what
/// follows is ignored); the unused low bits of a last character are ignored; data that
/// ends inside a quad is an error. No base64 crate stops where Python stops.
fn b64decode(data: &str, urlsafe: bool) -> Option<Vec<u8>> {
    if !data.is_ascii() {
        return None; // Python: "string argument should contain only ASCII characters"
    }
    let sextet = |c: u8| -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            b'-' if urlsafe => Some(62),
            b'_' if urlsafe => Some(63),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let (mut quad_pos, mut left, mut pads) = (0u8, 0u8, 0u8);
    for c in data.bytes() {
        if c == b'=' {
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos + pads >= 4 {
                    return Some(out);
                }
            }
            continue;
        }
        let Some(v) = sextet(c) else {
            continue;
        };
        pads = 0;
        match quad_pos {
            0 => {
                left = v;
                quad_pos = 1;
            }
            1 => {
                out.push((left << 2) | (v >> 4));
                left = v & 0x0f;
                quad_pos = 2;
            }
            2 => {
                out.push((left << 4) | (v >> 2));
                left = v & 0x03;
                quad_pos = 3;
            }
            _ => {
                out.push((left << 6) | v);
                quad_pos = 0;
            }
        }
    }
    (quad_pos == 0).then_some(out)
}

/// AES-CBC without padding removal; `None` for a key or data of the wrong size.
fn aes_cbc(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    fn run<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
    where
        cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
        C: aes::cipher::BlockCipherDecrypt,
    {
        let mut buf = data.to_vec();
        let n = cbc::Decryptor::<C>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded::<aes::cipher::block_padding::NoPadding>(&mut buf)
            .ok()?
            .len();
        buf.truncate(n);
        Some(buf)
    }
    if data.is_empty() || !data.len().is_multiple_of(16) {
        return None;
    }
    match key.len() {
        16 => run::<aes::Aes128>(key, iv, data),
        24 => run::<aes::Aes192>(key, iv, data),
        32 => run::<aes::Aes256>(key, iv, data),
        _ => None,
    }
}

/// `cryptography_decrypt_v1`: `Fernet(b64encode(key)).decrypt(data)`.
fn fernet(data: &str, key: &str) -> Option<Vec<u8>> {
    let doubled;
    let key = if key.chars().count() < 32 {
        doubled = key.repeat(2);
        first_32_chars(&doubled)
    } else {
        first_32_chars(key)
    };
    let key = key.as_bytes();
    if key.len() != 32 {
        return None; // Fernet refuses the key (ValueError)
    }
    let token = b64decode(data, true)?;
    if token.len() < 9 + 16 + 32 || token[0] != 0x80 {
        return None;
    }
    let (signed, tag) = token.split_at(token.len() - 32);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key[..16]).ok()?;
    mac.update(signed);
    mac.verify_slice(tag).ok()?;
    let mut clear = aes_cbc(&key[16..], &signed[9..25], &signed[25..])?;
    // PKCS#7
    let pad = usize::from(*clear.last()?);
    if pad == 0
        || pad > 16
        || !clear[clear.len() - pad..]
            .iter()
            .all(|&b| usize::from(b) == pad)
    {
        return None;
    }
    clear.truncate(clear.len() - pad);
    Some(clear)
}

/// `oslo_decrypt_v1`: `SymmetricCrypto().decrypt(key, data, b64decode=True)`.
fn oslo(data: &str, key: &str) -> Option<Vec<u8>> {
    let key = first_32_chars(key).as_bytes();
    let msg = b64decode(data, false)?;
    if msg.len() < 16 {
        return None;
    }
    let (iv, body) = msg.split_at(16);
    let mut clear = aes_cbc(key, iv, body)?;
    // ANSI X.923: the last byte counts the padding (1..=16), the others of it are zero.
    let pad = usize::from(*clear.last()?);
    if pad == 0
        || pad > 16
        || clear[clear.len() - pad..clear.len() - 1]
            .iter()
            .any(|&b| b != 0)
    {
        return None;
    }
    clear.truncate(clear.len() - pad);
    // oslo's padding did not count its length byte: one more byte goes.
    clear.pop();
    Some(clear)
}

/// One hidden parameter as Heat stored it: the `[method, data]` pair.
#[derive(Clone, Debug)]
pub struct Sealed {
    pub method: Value,
    pub data: Value,
}

/// A hidden parameter whose value was needed and could not be decrypted: the parameter
/// and why, in words (never the key or a value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unopened {
    pub parameter: String,
    pub why: String,
}

impl fmt::Display for Unopened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hidden parameter {} is encrypted and {}",
            self.parameter, self.why
        )
    }
}

impl std::error::Error for Unopened {}

/// Opens the hidden parameters of one stack with the configured key, only when a value is
/// asked for, and remembers the first failure: the graph's code may catch a failed read
/// as Heat's plugins catch a ValueError, yet a value we could not read means we cannot
/// know Heat's answer, so the caller asks [`Unsealer::failure`] when it is done.
#[derive(Clone, Debug, Default)]
pub struct Unsealer {
    key: Option<Key>,
    failure: Rc<RefCell<Option<Unopened>>>,
}

impl Unsealer {
    /// `key`: heat.conf's `auth_encryption_key`; `None` when it sets none (Heat then uses
    /// its default key, and so do we).
    pub fn new(key: Option<Key>) -> Unsealer {
        Unsealer {
            key,
            failure: Rc::default(),
        }
    }

    /// The value of hidden parameter `name`, as Heat's `from_db_object` makes it.
    pub fn open(&self, name: &str, sealed: &Sealed) -> Result<Value, Unopened> {
        let (method, data) = match (&sealed.method, &sealed.data) {
            // crypt.decrypt returns None for either None.
            (Value::Null, _) | (_, Value::Null) => return Ok(Value::Null),
            (Value::String(m), Value::String(d)) => (m, d),
            _ => {
                return Err(self.fail(
                    name,
                    "its stored pair is not two strings: Heat cannot read it either",
                ))
            }
        };
        let key = self.key.as_ref().map_or(HEAT_DEFAULT_KEY, |k| k.0.as_str());
        match decrypt(method, data, key) {
            Ok(clear) => Ok(Value::String(clear)),
            Err(Failure::UnknownMethod) => Err(self.fail(
                name,
                "its method is not one heat-converge knows (cryptography_decrypt_v1, oslo_decrypt_v1)",
            )),
            Err(Failure::WrongKey) if self.key.is_none() => Err(self.fail(
                name,
                "heat.conf gives no auth_encryption_key (Heat's default key does not decrypt it)",
            )),
            Err(Failure::WrongKey) => Err(self.fail(
                name,
                "cannot be decrypted with the configured auth_encryption_key",
            )),
        }
    }

    fn fail(&self, parameter: &str, why: &str) -> Unopened {
        let e = Unopened {
            parameter: parameter.to_string(),
            why: why.to_string(),
        };
        self.failure.borrow_mut().get_or_insert_with(|| e.clone());
        e
    }

    /// The first hidden parameter that was asked for and could not be read, and why.
    pub fn failure(&self) -> Option<Unopened> {
        self.failure.borrow().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_cut_by_characters_as_python_cuts_them() {
        assert_eq!(first_32_chars(&"é".repeat(40)).chars().count(), 32);
        assert_eq!(first_32_chars("short"), "short");
    }

    #[test]
    fn base64_as_python_reads_it() {
        // Each checked with Python 3.11's base64.b64decode.
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("QQ", None),
            ("QQ=", None),
            ("QQ==", Some(b"A")),
            ("QQ===", Some(b"A")),
            ("QQ==QUI=", Some(b"A")),
            ("QR==", Some(b"A")),
            ("QUJD", Some(b"ABC")),
            ("QUJ=", Some(b"AB")),
            ("Q===", None),
            ("Q Q = =\n", Some(b"A")),
            ("", Some(b"")),
            ("QQ==é", None),
        ];
        for (text, want) in cases {
            assert_eq!(b64decode(text, false).as_deref(), *want, "{text:?}");
        }
        assert_eq!(b64decode("-_-_", true), Some(vec![0xfb, 0xff, 0xbf]));
        assert_eq!(b64decode("-_-_", false), Some(vec![]));
    }

    #[test]
    fn the_key_never_shows() {
        let k = Key::new("s3cret-s3cret-s3cret-s3cret-s3cr");
        assert!(!format!("{k:?}").contains("s3cret"));
    }

    #[test]
    fn damaged_data_fails_without_panic() {
        for m in ["cryptography_decrypt_v1", "oslo_decrypt_v1"] {
            for d in [
                "",
                "gAAAAA",
                "not base64 at all",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ] {
                assert_eq!(decrypt(m, d, HEAT_DEFAULT_KEY), Err(Failure::WrongKey));
            }
        }
        assert_eq!(
            decrypt("heat_decrypt", "x", "k"),
            Err(Failure::UnknownMethod)
        );
    }
}
