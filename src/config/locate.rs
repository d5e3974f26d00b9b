//! Finds the line and column of a node named by its path.
//!
//! serde_yaml keeps positions only on errors, so the document is walked again
//! along the path and an error is raised at the node: serde_yaml stamps it
//! with that node's position, which is read off and returned.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::node::Seg;

/// Which part of a mapping entry to point at: the value, or its key (for an
/// unknown key, or an account ID that must be quoted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Value,
    Key,
}

const MARKER: &str = "altcontacts-locate";

/// The 1-based line and column of the node at `path`, or `None` when the path
/// does not exist in `text`.
pub fn locate(text: &str, path: &[Seg], target: Target) -> Option<(usize, usize)> {
    // A key written in the mapping itself wins over one merged into it
    // (`<<: *base`), so merges are followed only when the path is not found
    // without them.
    [false, true].into_iter().find_map(|merges| {
        let seed = Walk {
            rest: path,
            target,
            merges,
        };
        let error = seed
            .deserialize(serde_yaml::Deserializer::from_str(text))
            .err()?;
        if !error.to_string().contains(MARKER) {
            return None;
        }
        error.location().map(|loc| (loc.line(), loc.column()))
    })
}

#[derive(Clone, Copy)]
struct Walk<'a> {
    rest: &'a [Seg],
    target: Target,
    /// Whether a key not found in a mapping is looked for in what `<<` merges.
    merges: bool,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        // Even at the target, the error must come from inside a deserialize_*
        // call on this node, or serde_yaml stamps the parent's position.
        deserializer.deserialize_any(self)
    }
}

impl Walk<'_> {
    fn arrived<E: de::Error>(&self) -> Result<(), E> {
        if self.rest.is_empty() && self.target == Target::Value {
            Err(E::custom(MARKER))
        } else {
            Ok(())
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.arrived()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.arrived()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.arrived()
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.arrived()
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.arrived()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.arrived()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.arrived()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.arrived()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.arrived()
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.arrived()?;
        let Some((Seg::Index(wanted), rest)) = self.rest.split_first() else {
            return drain_seq(seq);
        };
        let mut index = 0;
        loop {
            let found = if index == *wanted {
                seq.next_element_seed(Walk { rest, ..self })?
            } else {
                seq.next_element::<IgnoredAny>()?.map(|_| ())
            };
            if found.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.arrived()?;
        let Some((Seg::Key(wanted), rest)) = self.rest.split_first() else {
            return drain_map(map);
        };
        let at_key = rest.is_empty() && self.target == Target::Key;
        while let Some(matched) = map.next_key_seed(KeyMatch {
            wanted,
            raise: at_key,
        })? {
            match matched {
                Matched::Wanted => {
                    map.next_value_seed(Walk { rest, ..self })?;
                    return drain_map(map);
                }
                // Looks for the same key in the merged mappings; finding it
                // there ends the walk with its position.
                Matched::Merge if self.merges => map.next_value_seed(Merged(self))?,
                _ => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(())
    }
}

/// The value of a `<<` key: a mapping, or a list of them, searched in order.
struct Merged<'a>(Walk<'a>);

impl<'de> DeserializeSeed<'de> for Merged<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Merged<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping to merge")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.visit_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Merged(self.0))?.is_some() {}
        Ok(())
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Reads a key and tells whether it is the one wanted; with `raise`, a match
/// is an error so that it carries the key's own position.
struct KeyMatch<'a> {
    wanted: &'a str,
    raise: bool,
}

/// What a mapping key is to the walk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Matched {
    Wanted,
    Merge,
    Other,
}

impl KeyMatch<'_> {
    fn check<E: de::Error>(self, text: &str) -> Result<Matched, E> {
        match (text == self.wanted, self.raise) {
            (true, true) => Err(E::custom(MARKER)),
            (true, false) => Ok(Matched::Wanted),
            _ if text == "<<" => Ok(Matched::Merge),
            _ => Ok(Matched::Other),
        }
    }
}

impl<'de> DeserializeSeed<'de> for KeyMatch<'_> {
    type Value = Matched;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Matched, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyMatch<'_> {
    type Value = Matched;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Matched, E> {
        self.check(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Matched, E> {
        self.check(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Matched, E> {
        self.check(&v.to_string())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Matched, E> {
        self.check(&v.to_string())
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Matched, E> {
        self.check(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Matched, E> {
        self.check(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Matched, E> {
        self.check(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Matched, E> {
        self.check("null")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Matched, A::Error> {
        drain_seq(seq).map(|()| Matched::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Matched, A::Error> {
        drain_map(map).map(|()| Matched::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segs: &[&str]) -> Vec<Seg> {
        segs.iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) if s.len() < 3 => Seg::Index(i),
                _ => Seg::Key((*s).to_owned()),
            })
            .collect()
    }

    const DOC: &str = "\
version: 1
accounts:
  \"111111111111\":
    security:
      name: Sec
      email_address: bad
  012345678901:
    billing: absent
organization:
  exclude: [\"1\", \"999999999999\"]
";

    #[test]
    fn locates_values_keys_and_list_items() {
        assert_eq!(
            locate(
                DOC,
                &path(&["accounts", "111111111111", "security", "email_address"]),
                Target::Value
            ),
            Some((6, 22))
        );
        assert_eq!(
            locate(
                DOC,
                &path(&["accounts", "111111111111", "security", "email_address"]),
                Target::Key
            ),
            Some((6, 7))
        );
        assert_eq!(
            locate(DOC, &path(&["accounts", "012345678901"]), Target::Key),
            Some((7, 3))
        );
        assert_eq!(
            locate(DOC, &path(&["organization", "exclude", "1"]), Target::Value),
            Some((10, 18))
        );
        assert_eq!(
            locate(DOC, &path(&["version"]), Target::Value),
            Some((1, 10))
        );
    }

    #[test]
    fn missing_path_is_none() {
        assert_eq!(
            locate(DOC, &path(&["accounts", "nope"]), Target::Value),
            None
        );
    }
}
