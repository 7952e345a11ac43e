//! Sign-in names made from a person's name, as the shop products make them: the first
//! initial and the last name, in lower case, letters and digits only (`Jo Smith` →
//! `jsmith`, `Zoë O'Brien` → `zobrien`), with the next free number after it when the name is
//! taken (`jsmith2`). The server decides uniqueness; this only proposes.

/// The name `given` and `family` make before any number, if they make one.
pub fn base(given: &str, family: &str) -> Option<String> {
    let initial = plain(given).chars().next()?;
    let last = plain(family);
    if last.is_empty() {
        return None;
    }
    Some(format!("{initial}{last}"))
}

/// The first free name `given` and `family` make: the base, else the base with 2, 3, …;
/// `None` when the names make none (a blank name, or no letter or digit to use).
pub fn suggest(given: &str, family: &str, taken: impl Fn(&str) -> bool) -> Option<String> {
    let base = base(given, family)?;
    std::iter::once(base.clone())
        .chain((2..).map(|n| format!("{base}{n}")))
        .find(|candidate| !taken(candidate))
}

/// `text` in lower-case ASCII letters and digits: accents taken off the letters of the
/// Latin alphabets shops mostly meet, everything else left out.
fn plain(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'à'..='å' | 'ā' | 'ą' => out.push('a'),
            'æ' => out.push_str("ae"),
            'ç' | 'ć' | 'č' => out.push('c'),
            'ď' | 'đ' | 'ð' => out.push('d'),
            'è'..='ë' | 'ē' | 'ę' | 'ě' => out.push('e'),
            'ì'..='ï' | 'ī' | 'ı' => out.push('i'),
            'ł' | 'ľ' => out.push('l'),
            'ñ' | 'ń' | 'ň' => out.push('n'),
            'ò'..='ö' | 'ø' | 'ō' | 'ő' => out.push('o'),
            'œ' => out.push_str("oe"),
            'ř' => out.push('r'),
            'ß' => out.push_str("ss"),
            'ś' | 'š' | 'ş' => out.push('s'),
            'ť' | 'ţ' => out.push('t'),
            'ù'..='ü' | 'ū' | 'ů' | 'ű' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'ź' | 'ż' | 'ž' => out.push('z'),
            'þ' => out.push_str("th"),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initial_and_the_last_name_in_plain_lower_case() {
        assert_eq!(base("Jo", "Smith").as_deref(), Some("jsmith"));
        assert_eq!(base("  zoë ", "O'Brien").as_deref(), Some("zobrien"));
        assert_eq!(
            base("Émile", "Łukasz-Nowak").as_deref(),
            Some("elukasznowak")
        );
        assert_eq!(base("Ann", "van der Berg").as_deref(), Some("avanderberg"));
        assert_eq!(base("", "Smith"), None, "no first name, no initial");
        assert_eq!(base("Jo", "  "), None);
        assert_eq!(base("李", "王"), None, "nothing to spell it with");
    }

    #[test]
    fn a_taken_name_gets_the_next_free_number() {
        let taken = ["jsmith", "jsmith2", "jsmith4"];
        let is_taken = |name: &str| taken.contains(&name);
        assert_eq!(suggest("Jo", "Smith", is_taken).as_deref(), Some("jsmith3"));
        assert_eq!(suggest("Jo", "Smyth", is_taken).as_deref(), Some("jsmyth"));
        assert_eq!(suggest("", "Smith", is_taken), None);
    }
}
