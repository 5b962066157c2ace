//! A double written as JavaScript's `Number.prototype.toString` writes it: the shortest
//! digits that read back to the same value (Rust's `{:e}` gives exactly those), placed as
//! ECMAScript's Number::toString places them (plain up to 21 digits, `0.000…` down to
//! 1e-6, exponent form beyond).

/// `value` in JavaScript's form. Not for NaN or infinities (JSON has none).
pub fn js_number(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let sci = format!("{:e}", value.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let e: i32 = exponent.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = e + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let (first, rest) = digits.split_at(1);
        let exp = n - 1;
        let sign = if exp < 0 { '-' } else { '+' };
        if rest.is_empty() {
            format!("{first}e{sign}{}", exp.abs())
        } else {
            format!("{first}.{rest}e{sign}{}", exp.abs())
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::js_number;

    #[test]
    fn as_node_writes_them() {
        // Node 20's String(x) for each.
        for (value, js) in [
            (6.0, "6"),
            (19.99, "19.99"),
            (0.00005, "0.00005"),
            (0.0000492, "0.0000492"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.09853637216235617, "0.09853637216235617"),
            (1e16, "10000000000000000"),
            (1e21, "1e+21"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.2345e22, "1.2345e+22"),
            (-2.5, "-2.5"),
            (1767082687409.0, "1767082687409"),
            (165.652609, "165.652609"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(js_number(value), js, "{value:e}");
        }
    }
}
