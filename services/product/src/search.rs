//! Full-text search over the catalogue with tantivy, in memory: BM25
//! relevance over a product's name, category, description and SKU codes.
//! Every word of a query must match a word of the product exactly, as a
//! prefix ("lin" finds linen) or, for words of four letters or more and no
//! digits, with one typo ("jens" finds jeans). Exact matches rank above prefixes, prefixes above
//! typos, and a name above a category above a description.

use moka::sync::Cache;
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, Score, Term, doc,
    query::{BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, Query, TermQuery},
    schema::{FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions},
    tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer},
};

/// Letters and digits, lower-cased, accents folded ("Café" is "cafe").
const ANALYZER: &str = "folded";
/// A query's words beyond this many are ignored.
const MAX_WORDS: usize = 8;
/// Words this long or longer tolerate one typo.
const TYPO_FROM: usize = 4;
/// The indexing arena: tantivy's smallest.
const WRITER_MEMORY: usize = 15_000_000;

/// What search reads of a product. `slot` is how the caller finds it again.
pub struct Searchable<'a> {
    pub id: &'a str,
    pub slot: u64,
    pub name: &'a str,
    pub category: &'a str,
    pub description: &'a str,
    pub codes: Vec<&'a str>,
}

struct Fields {
    id: Field,
    slot: Field,
    name: Field,
    category: Field,
    description: Field,
    codes: Field,
    /// Every word of the four above: prefixes and typos are looked up once
    /// here rather than in each field.
    all: Field,
}

impl Fields {
    /// Text fields and how much a match in each counts.
    fn weighted(&self) -> [(Field, Score); 4] {
        [(self.name, 3.0), (self.category, 2.0), (self.description, 1.0), (self.codes, 1.0)]
    }
}

pub struct TextIndex {
    fields: Fields,
    index: Index,
    /// One change at a time (tantivy allows a single writer).
    writing: Mutex<()>,
    reader: IndexReader,
    analyzer: TextAnalyzer,
    /// Recent answers by (index generation, words): shoppers ask the same
    /// few words over and over, and filters, sorts and pages of one search
    /// all start from the same matches.
    recent: Cache<(u64, String), Found>,
    /// Bumped by every change, after it is visible to searches.
    generation: AtomicU64,
}

/// The slots of matching products, with their relevance.
pub type Found = Arc<Vec<(u64, Score)>>;

/// At most this many matches are kept in [`TextIndex::recent`] in all.
const RECENT_MATCHES: u64 = 500_000;

impl TextIndex {
    pub fn new() -> tantivy::Result<Self> {
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqs),
        );
        let mut schema = Schema::builder();
        let fields = Fields {
            id: schema.add_text_field("id", STRING),
            slot: schema.add_u64_field("slot", FAST),
            name: schema.add_text_field("name", text.clone()),
            category: schema.add_text_field("category", text.clone()),
            description: schema.add_text_field("description", text.clone()),
            codes: schema.add_text_field("codes", text.clone()),
            all: schema.add_text_field("all", text),
        };
        let index = Index::create_in_ram(schema.build());
        let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build();
        index.tokenizers().register(ANALYZER, analyzer.clone());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let recent = Cache::builder()
            .max_capacity(RECENT_MATCHES)
            .weigher(|_, found: &Found| u32::try_from(found.len()).unwrap_or(u32::MAX).saturating_add(1))
            .build();
        Ok(Self { fields, index, writing: Mutex::new(()), reader, analyzer, recent, generation: AtomicU64::new(0) })
    }

    /// Replaces these products and removes those, then makes the change
    /// visible to searches (blocking: call off the async threads when large).
    pub fn apply(&self, upsert: &[Searchable<'_>], remove: &[&str]) -> tantivy::Result<()> {
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        // A writer only while writing: its arena and threads would otherwise
        // stay for the life of the process (catalogue edits are rare).
        let mut writer: IndexWriter = self.index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let f = &self.fields;
        for id in remove.iter().copied().chain(upsert.iter().map(|p| p.id)) {
            writer.delete_term(Term::from_field_text(f.id, id));
        }
        for p in upsert {
            writer.add_document(doc!(
                f.id => p.id,
                f.slot => p.slot,
                f.name => p.name,
                f.category => p.category,
                f.description => p.description,
                f.codes => p.codes.join(" "),
                f.all => format!("{} {} {} {}", p.name, p.category, p.description, p.codes.join(" ")),
            ))?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        self.reader.reload()?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.recent.invalidate_all();
        Ok(())
    }

    /// The query's words as the index stores words.
    pub fn words(&self, query: &str) -> Vec<String> {
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(query);
        let mut words = Vec::new();
        while let Some(token) = stream.next() {
            if !words.contains(&token.text) && words.len() < MAX_WORDS {
                words.push(token.text.clone());
            }
        }
        words
    }

    /// The slots of the products matching every word (as [`Self::words`]
    /// gives them), with their relevance; `None` without words (nothing to
    /// search for).
    pub fn search(&self, words: &[String]) -> tantivy::Result<Option<Found>> {
        if words.is_empty() {
            return Ok(None);
        }
        // The generation is read before the searcher: an answer kept under it
        // may come from a newer index, never from an older one.
        let key = (self.generation.load(Ordering::Acquire), words.join(" "));
        if let Some(found) = self.recent.get(&key) {
            return Ok(Some(found));
        }
        let every_word: Vec<(Occur, Box<dyn Query>)> =
            words.iter().map(|w| (Occur::Must, self.word_query(w))).collect();
        let query = BooleanQuery::new(every_word);
        let searcher = self.reader.searcher();
        let weight = query.weight(EnableScoring::enabled_from_searcher(&searcher))?;
        let mut found = Vec::new();
        for segment in searcher.segment_readers() {
            let slots = segment.fast_fields().u64("slot")?;
            weight.for_each(segment, &mut |doc, score| {
                if !segment.is_deleted(doc)
                    && let Some(slot) = slots.first(doc)
                {
                    found.push((slot, score));
                }
            })?;
        }
        let found = Arc::new(found);
        self.recent.insert(key, found.clone());
        Ok(Some(found))
    }

    /// One word: found exactly (scored by BM25, by field), as a prefix, or
    /// with a typo (a constant below any exact match).
    fn word_query(&self, word: &str) -> Box<dyn Query> {
        let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, weight) in self.fields.weighted() {
            let exact = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs);
            any.push((Occur::Should, Box::new(BoostQuery::new(Box::new(exact), weight))));
        }
        // Prefixes and typos anywhere, and again in the name, which says
        // more. Codes and numbers are meant exactly ("gen000007" is not a
        // typo of "gen000001").
        let typos = word.chars().count() >= TYPO_FROM && word.chars().all(char::is_alphabetic);
        for (field, weight) in [(self.fields.all, 1.0), (self.fields.name, 1.0)] {
            let term = Term::from_field_text(field, word);
            let prefix = FuzzyTermQuery::new_prefix(term.clone(), 0, false);
            any.push((Occur::Should, Box::new(BoostQuery::new(Box::new(prefix), weight))));
            if typos {
                let typo = FuzzyTermQuery::new(term, 1, true);
                any.push((Occur::Should, Box::new(BoostQuery::new(Box::new(typo), weight * 0.5))));
            }
        }
        Box::new(BooleanQuery::new(any))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(products: &[(&str, &str, &str)]) -> TextIndex {
        let index = TextIndex::new().unwrap();
        let docs: Vec<Searchable> = products
            .iter()
            .enumerate()
            .map(|(slot, (name, category, description))| Searchable {
                id: name,
                slot: slot as u64,
                name,
                category,
                description,
                codes: vec![],
            })
            .collect();
        index.apply(&docs, &[]).unwrap();
        index
    }

    fn names(index: &TextIndex, products: &[(&str, &str, &str)], query: &str) -> Vec<String> {
        let mut found = index.search(&index.words(query)).unwrap().map(|f| f.to_vec()).unwrap_or_default();
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        found.into_iter().map(|(slot, _)| products[slot as usize].0.to_string()).collect()
    }

    const SHOP: &[(&str, &str, &str)] = &[
        ("Classic Denim Jeans", "Jeans", "Five pockets, straight leg."),
        ("Linen Shirt", "Shirts", "Light and airy."),
        ("Café Hoodie", "Hoodies", "Fleece inside; goes with jeans."),
        ("Wool Coat", "Jackets", "Warm."),
    ];

    #[test]
    fn words_match_exactly_by_prefix_and_with_one_typo() {
        let index = index(SHOP);
        assert_eq!(names(&index, SHOP, "lin"), ["Linen Shirt"], "a prefix");
        assert_eq!(names(&index, SHOP, "jens"), ["Classic Denim Jeans", "Café Hoodie"], "one typo");
        assert_eq!(names(&index, SHOP, "cafe"), ["Café Hoodie"], "accents folded");
        assert_eq!(names(&index, SHOP, "JEANS denim"), ["Classic Denim Jeans"], "every word");
        assert!(names(&index, SHOP, "jxxns").is_empty(), "two typos are too many");
        assert!(names(&index, SHOP, "cot").is_empty(), "short words need an exact prefix");
        let codes = index_with_codes();
        assert_eq!(codes.search(&codes.words("ab0001")).unwrap().unwrap().len(), 1, "codes are meant exactly");
        assert_eq!(index.search(&index.words("!!")).unwrap(), None, "no words: no search");
    }

    #[test]
    fn a_name_ranks_above_a_description_and_exact_above_a_typo() {
        let index = index(SHOP);
        assert_eq!(names(&index, SHOP, "jeans"), ["Classic Denim Jeans", "Café Hoodie"]);
        let index = index_with_typo();
        assert_eq!(names(&index, TYPOS, "coat"), ["Wool Coat", "Wool Cost"]);
    }

    fn index_with_codes() -> TextIndex {
        let index = TextIndex::new().unwrap();
        let docs: Vec<Searchable> = ["AB0001", "AB0002"]
            .iter()
            .enumerate()
            .map(|(slot, code)| Searchable {
                id: code,
                slot: slot as u64,
                name: "Tee",
                category: "",
                description: "",
                codes: vec![code],
            })
            .collect();
        index.apply(&docs, &[]).unwrap();
        index
    }

    const TYPOS: &[(&str, &str, &str)] = &[("Wool Cost", "", ""), ("Wool Coat", "", "")];
    fn index_with_typo() -> TextIndex {
        index(TYPOS)
    }

    #[test]
    fn replaced_and_removed_products_leave_the_results() {
        let index = index(SHOP);
        // Asked before the change: the answers kept since are not reused after.
        assert_eq!(index.search(&index.words("linen")).unwrap().unwrap().len(), 1);
        assert_eq!(index.search(&index.words("wool")).unwrap().unwrap().len(), 1);
        let renamed = Searchable {
            id: "Linen Shirt",
            slot: 1,
            name: "Oxford Shirt",
            category: "Shirts",
            description: "",
            codes: vec!["OX-1"],
        };
        index.apply(&[renamed], &["Wool Coat"]).unwrap();
        assert!(index.search(&index.words("linen")).unwrap().unwrap().is_empty());
        assert_eq!(index.search(&index.words("ox")).unwrap().unwrap().len(), 1);
        assert!(index.search(&index.words("wool")).unwrap().unwrap().is_empty());
    }
}
