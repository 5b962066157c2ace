//! Just enough DER to read two fields of an X.509 certificate: the subject's common name
//! and the subject public key (the RSA key bytes ring takes). The certificate was already
//! parsed and checked by webpki; this only finds the fields webpki does not hand out.

/// One DER element: its tag, its contents, and what follows it.
fn element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The elements of a SEQUENCE's contents.
fn children(mut contents: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !contents.is_empty() {
        let (tag, value, rest) = element(contents)?;
        out.push((tag, value));
        contents = rest;
    }
    Some(out)
}

/// TBSCertificate's fields after the optional version: serial, signature, issuer,
/// validity, subject, subjectPublicKeyInfo, …
fn tbs_fields(cert: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let (_, certificate, _) = element(cert)?;
    let (_, tbs, _) = element(certificate)?;
    let mut fields = children(tbs)?;
    if fields.first()?.0 == 0xa0 {
        fields.remove(0);
    }
    Some(fields)
}

const COMMON_NAME: [u8; 3] = [0x55, 0x04, 0x03];

/// The subject's common name (the last one, as the most specific).
pub fn subject_common_name(cert: &[u8]) -> Option<String> {
    let fields = tbs_fields(cert)?;
    let (_, subject) = fields.get(4)?;
    let mut name = None;
    for (_, set) in children(subject)? {
        for (_, attribute) in children(set)? {
            let parts = children(attribute)?;
            if let [(0x06, oid), (_, value)] = parts.as_slice()
                && *oid == COMMON_NAME
            {
                name = Some(String::from_utf8_lossy(value).into_owned());
            }
        }
    }
    name
}

/// The subjectPublicKey bit string's key bytes (for RSA, the RSAPublicKey DER).
pub fn subject_public_key(cert: &[u8]) -> Option<&[u8]> {
    let fields = tbs_fields(cert)?;
    let (_, spki) = fields.get(5)?;
    let parts = children(spki)?;
    let (tag, bits) = parts.get(1)?;
    // A BIT STRING: its first byte counts unused bits (0 for a key).
    (*tag == 0x03 && bits.first() == Some(&0)).then(|| &bits[1..])
}
