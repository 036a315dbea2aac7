//! Calendar dates of the rule language: `2026-12-20` as a day number and back.
//!
//! Dates are proleptic Gregorian days counted from 1970-01-01 (day 0), the numbering the
//! engine gives the UTC date of an order's `placed_at`, so comparing dates is comparing
//! whole numbers. Years run from 0001 to 9999, like the orders' timestamps.

/// The day number of `YYYY-MM-DD`, or what is wrong with the text.
pub fn parse(text: &str) -> Result<i32, String> {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err("a date has three parts: year, month and day".into());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(
            "a date is written with a 4-digit year, a 2-digit month and a 2-digit day".into(),
        );
    }
    let number = |s: &str| s.parse::<u32>().ok();
    let (Some(year), Some(month), Some(day)) = (number(y), number(m), number(d)) else {
        return Err("a date holds digits only".into());
    };
    if year == 0 {
        return Err("years start at 0001".into());
    }
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} does not exist (01 to 12)"));
    }
    let last = days_in_month(year, month);
    if day == 0 || day > last {
        return Err(format!(
            "day {day} does not exist in {y}-{m} (01 to {last:02})"
        ));
    }
    Ok(from_civil(year, month, day))
}

/// `YYYY-MM-DD` of a day number.
pub fn format(days: i32) -> String {
    let (y, m, d) = to_civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid date (H. Hinnant's `days_from_civil`).
fn from_civil(year: u32, month: u32, day: u32) -> i32 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // Years 1 to 9999 keep the count within ±3.7 million days.
    i32::try_from(era * 146_097 + doe - 719_468).unwrap_or(i32::MIN)
}

/// The date of a day number (H. Hinnant's `civil_from_days`).
fn to_civil(days: i32) -> (i64, u32, u32) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_count_from_1970() {
        assert_eq!(parse("1970-01-01"), Ok(0));
        assert_eq!(parse("1970-01-02"), Ok(1));
        assert_eq!(parse("1969-12-31"), Ok(-1));
        // 2026-12-20 is 20,807 days after 1970-01-01 (56 years, 14 of them leap, + 353).
        assert_eq!(parse("2026-12-20"), Ok(56 * 365 + 14 + 353));
        assert_eq!(parse("2000-02-29").map(format), Ok("2000-02-29".into()));
    }

    #[test]
    fn every_day_round_trips() {
        let first = parse("0001-01-01").unwrap_or_default();
        let last = parse("9999-12-31").unwrap_or_default();
        for d in (first..=last).step_by(97).chain([first, last]) {
            assert_eq!(parse(&format(d)), Ok(d), "{}", format(d));
        }
    }

    #[test]
    fn malformed_dates_say_what_is_wrong() {
        for (text, why) in [
            ("2026-13-01", "month 13"),
            ("2026-02-29", "day 29 does not exist in 2026-02"),
            ("1900-02-29", "day 29"),
            ("2026-1-05", "2-digit month"),
            ("2026-12-00", "day 0"),
            ("0000-01-01", "0001"),
        ] {
            let got = parse(text).err().unwrap_or_default();
            assert!(got.contains(why), "{text}: {got}");
        }
    }
}
