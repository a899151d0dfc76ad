//! Page numbers to LIMIT/OFFSET, clamped so no request asks for everything.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub const MAX_PER_PAGE: u32 = 100;

    pub fn new(page: u32, per_page: u32, default_per_page: u32) -> Self {
        let per_page = match per_page {
            0 => default_per_page,
            n => n.min(Self::MAX_PER_PAGE),
        };
        Self { page: page.clamp(1, 1_000_000), per_page }
    }
    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn clamps() {
        assert_eq!(Page::new(0, 0, 20), Page { page: 1, per_page: 20 });
        assert_eq!(Page::new(3, 1000, 20).per_page, 100);
        assert_eq!(Page::new(3, 10, 20).offset(), 20);
    }
}
