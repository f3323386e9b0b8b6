//! `digest`: a hash of a value's Latin-1 bytes, by the algorithms hashlib names.

use crate::stack::resolve::Unknowable;
use anyhow::{bail, Result};
use serde_json::Value;

/// `digest: [algorithm, value]`, the value's Latin-1 bytes hashed.
pub fn digest(name: &str, args: &Value) -> Result<Value> {
    let strings: Option<Vec<&str>> = match args {
        Value::Array(a) => a.iter().map(Value::as_str).collect(),
        _ => None,
    };
    let Some(strings) = strings else {
        bail!("Argument to function \"{name}\" must be a list of strings")
    };
    let [algorithm, value] = strings.as_slice() else {
        bail!("Function \"{name}\" usage: [\"<algorithm>\", \"<value>\"]")
    };
    let bytes: Option<Vec<u8>> = value.chars().map(|c| u8::try_from(c).ok()).collect();
    let Some(bytes) = bytes else {
        bail!("\"{name}\": 'latin-1' codec can't encode the value")
    };
    use md5::Digest as _;
    use sha1::Digest as _;
    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }
    let out = match algorithm.to_lowercase().as_str() {
        "md5" => hex(&md5::Md5::digest(&bytes)),
        "sha1" => hex(&sha1::Sha1::digest(&bytes)),
        "sha224" => hex(&sha2::Sha224::digest(&bytes)),
        "sha256" => hex(&sha2::Sha256::digest(&bytes)),
        "sha384" => hex(&sha2::Sha384::digest(&bytes)),
        "sha512" => hex(&sha2::Sha512::digest(&bytes)),
        "sha512_224" => hex(&sha2::Sha512_224::digest(&bytes)),
        "sha512_256" => hex(&sha2::Sha512_256::digest(&bytes)),
        // Heat's Python has these through OpenSSL; we do not compute them.
        "blake2b" | "blake2s" | "md5-sha1" | "ripemd160" | "sha3_224" | "sha3_256" | "sha3_384"
        | "sha3_512" | "shake_128" | "shake_256" | "sm3" => {
            return Err(anyhow::Error::new(Unknowable(format!(
                "the value of \"{name}\" with algorithm {algorithm} cannot be known before \
                 the stack runs"
            ))))
        }
        _ => bail!(
            "Algorithm must be one of {{'blake2b', 'blake2s', 'md5', 'md5-sha1', 'ripemd160', \
             'sha1', 'sha224', 'sha256', 'sha384', 'sha3_224', 'sha3_256', 'sha3_384', \
             'sha3_512', 'sha512', 'sha512_224', 'sha512_256', 'shake_128', 'shake_256', 'sm3'}}"
        ),
    };
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    //! Expected values are Python's, worked out by hand from Heat 27.0.1's code (the
    //! differential templates in tests/templates/graph check them against Heat itself).
    use super::*;
    use crate::stack::resolve::data::test_error as err;
    use serde_json::json;

    #[test]
    fn digest_of_latin1_bytes() {
        assert_eq!(
            digest("digest", &json!(["sha256", "abc"])).unwrap(),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            digest("digest", &json!(["MD5", "é"])).unwrap(),
            json!("3406877694691ddd1dfb0aca54681407")
        );
        assert!(err(digest("digest", &json!(["md5", "€"]))).contains("latin-1"));
        assert!(err(digest("digest", &json!(["md5", 1]))).contains("list of strings"));
        assert!(err(digest("digest", &json!(["md5"]))).contains("usage"));
        assert!(err(digest("digest", &json!(["sha3_256", "a"]))).contains("cannot be known"));
    }
}
