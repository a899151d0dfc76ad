//! Garment pictures drawn by Atelier: one SVG silhouette per shape, filled
//! with the variant's colour.

use axum::{
    extract::{Path, Query},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

const SHAPES: &[(&str, &str)] = &[
    ("tshirt", "M70 40 L100 28 Q120 44 140 28 L170 40 L200 80 L172 96 L164 84 L164 210 L76 210 L76 84 L68 96 L40 80 Z"),
    (
        "shirt",
        "M72 40 L104 28 L120 52 L136 28 L168 40 L196 150 L174 156 L162 100 L162 212 L78 212 L78 100 L66 156 L44 150 Z M120 52 L120 212",
    ),
    ("jeans", "M78 30 L162 30 L172 214 L132 214 L120 96 L108 214 L68 214 Z"),
    (
        "chinos",
        "M80 30 L160 30 L166 214 L132 214 L120 90 L108 214 L74 214 Z M80 44 L160 44 M92 44 Q96 64 82 70 M148 44 Q144 64 158 70",
    ),
    ("shorts", "M74 50 L166 50 L180 160 L130 166 L120 110 L110 166 L60 160 Z"),
    (
        "hoodie",
        "M96 44 Q120 6 144 44 L176 56 L204 170 L180 176 L166 110 L166 214 L74 214 L74 110 L60 176 L36 170 L64 56 Z M100 150 L140 150 L146 180 L94 180 Z",
    ),
    (
        "sweater",
        "M72 42 L104 32 Q120 46 136 32 L168 42 L202 172 L178 178 L164 104 L164 212 L76 212 L76 104 L62 178 L38 172 Z",
    ),
    (
        "cardigan",
        "M72 42 L104 32 L120 96 L136 32 L168 42 L202 172 L178 178 L164 104 L164 212 L76 212 L76 104 L62 178 L38 172 Z \
         M120 96 L120 212 M124 122 a3 3 0 1 0 6 0 a3 3 0 1 0 -6 0 M124 152 a3 3 0 1 0 6 0 a3 3 0 1 0 -6 0 \
         M124 182 a3 3 0 1 0 6 0 a3 3 0 1 0 -6 0",
    ),
    (
        "puffer",
        "M70 42 L104 30 Q120 40 136 30 L170 42 L202 170 L178 178 L164 112 L164 212 L76 212 L76 112 L62 178 L38 170 Z \
         M120 40 L120 212 M76 90 L164 90 M76 125 L164 125 M76 160 L164 160 M76 195 L164 195 M54 110 L72 106 M46 140 L66 136",
    ),
    (
        "blazer",
        "M70 42 L106 30 L120 92 L134 30 L170 42 L198 170 L176 176 L164 112 L164 200 L76 200 L76 112 L64 176 L42 170 Z \
         M106 30 L98 70 L120 92 M134 30 L142 70 L120 92 L120 200 M88 160 L104 160",
    ),
    (
        "overcoat",
        "M72 34 L106 24 L120 60 L134 24 L168 34 L200 150 L178 156 L168 112 L172 232 L68 232 L72 112 L62 156 L40 150 Z \
         M106 24 L98 64 L120 100 M134 24 L142 64 L120 100 L120 232 M126 126 a4 4 0 1 0 8 0 a4 4 0 1 0 -8 0 \
         M126 160 a4 4 0 1 0 8 0 a4 4 0 1 0 -8 0 M126 194 a4 4 0 1 0 8 0 a4 4 0 1 0 -8 0 M84 190 L104 190",
    ),
    (
        "trench",
        "M74 36 L106 26 L120 66 L134 26 L166 36 L198 210 L176 214 L166 120 L170 226 L70 226 L74 120 L64 214 L42 210 Z \
         M106 26 L100 56 L120 66 M134 26 L140 56 L120 66 L120 226 M72 136 L168 136 M72 148 L168 148 M112 136 L112 148",
    ),
    (
        "beanie",
        "M60 160 Q60 76 120 70 Q180 76 180 160 Z M56 160 L184 160 L184 192 L56 192 Z \
         M108 62 a12 12 0 1 0 24 0 a12 12 0 1 0 -24 0 M88 160 L88 192 M120 160 L120 192 M152 160 L152 192",
    ),
    (
        "jacket",
        "M70 42 L106 30 L120 70 L134 30 L170 42 L200 176 L176 182 L164 110 L164 214 L76 214 L76 110 L64 182 L40 176 Z M120 70 L120 214",
    ),
    (
        "coat",
        "M74 36 L106 26 L120 66 L134 26 L166 36 L198 210 L176 214 L166 120 L170 226 L70 226 L74 120 L64 214 L42 210 Z M120 66 L120 226",
    ),
    ("dress", "M96 30 L108 30 Q120 46 132 30 L144 30 L150 90 L192 220 L48 220 L90 90 Z"),
    ("skirt", "M86 60 L154 60 L190 196 L50 196 Z"),
    ("cap", "M56 140 Q60 70 120 66 Q180 70 184 140 Z M150 140 L214 150 L210 160 L146 152 Z"),
    ("socks", "M92 30 L132 30 L132 150 L176 176 Q190 196 170 208 L110 208 Q92 200 92 180 Z"),
];

#[derive(Deserialize)]
pub struct ColorQuery {
    #[serde(default)]
    color: String,
}

/// Colour names of the catalogue to fills; anything else is grey.
fn fill(color: &str) -> &'static str {
    match color.trim().to_lowercase().as_str() {
        "white" | "cream" => "#f4f1ea",
        "black" => "#23232a",
        "navy" => "#26345a",
        "blue" => "#3d6fb6",
        "gray" | "grey" => "#8c8f96",
        "charcoal" => "#4a4d55",
        "red" => "#c2413b",
        "burgundy" => "#7a2335",
        "pink" => "#e7a1b4",
        "orange" => "#e08a3c",
        "yellow" => "#e9c44a",
        "green" => "#3f7d55",
        "olive" => "#6f7442",
        "sand" | "beige" => "#d8c39b",
        "camel" => "#b98a55",
        "gold" => "#c9a227",
        _ => "#9aa0a6",
    }
}

/// A fill with less than 2:1 contrast against the page's backdrop (WCAG
/// relative luminance; the backdrop's is 0.86).
fn is_light(hex: &str) -> bool {
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    (0.86 + 0.05) / (luminance + 0.05) < 2.0
}

pub async fn garment(Path(file): Path<String>, Query(q): Query<ColorQuery>) -> Response {
    let Some(shape) = file.strip_suffix(".svg").and_then(|s| SHAPES.iter().find(|(name, _)| *name == s)) else {
        return (StatusCode::NOT_FOUND, "no such image").into_response();
    };
    let fill = fill(&q.color);
    // A light garment on the light page would be a faint outline: it gets a
    // deeper backdrop and a firmer line.
    let (backdrop, line) = if is_light(fill) { ("#e2dacb", ".6") } else { ("#f3efe8", ".35") };
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 240" role="img"><rect width="240" height="240" fill="{backdrop}"/><path d="{}" fill="{fill}" stroke="#1d1d22" stroke-opacity="{line}" stroke-width="3" stroke-linejoin="round"/></svg>"##,
        shape.1,
    );
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_the_catalogue_accepts_is_drawn_once() {
        for shape in atelier_proto::GARMENT_SHAPES {
            assert_eq!(SHAPES.iter().filter(|(name, _)| *name == shape).count(), 1, "{shape}");
        }
        assert_eq!(SHAPES.len(), atelier_proto::GARMENT_SHAPES.len(), "no drawing the catalogue cannot use");
        let drawings: std::collections::BTreeSet<&str> = SHAPES.iter().map(|(_, d)| *d).collect();
        assert_eq!(drawings.len(), SHAPES.len(), "no two garments share a drawing");
    }

    #[test]
    fn light_colours_get_a_deeper_backdrop() {
        assert!(
            is_light(fill("White")) && is_light(fill("Cream")) && is_light(fill("Sand")) && is_light(fill("Yellow"))
        );
        assert!(!is_light(fill("Navy")) && !is_light(fill("Olive")) && !is_light(fill("Red")));
    }
}
