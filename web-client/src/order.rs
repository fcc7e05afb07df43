//! One stable sort for the whole page. Each `sort_by` of its own element
//! type and comparator brings its own copy of the standard library's sort
//! into the WebAssembly (several KB each); here one sort runs on indices
//! with a `dyn` comparator, and the items are put in that order. The sort is
//! a plain merge sort of its own: the standard one (driftsort, with its
//! small-sort networks) was some 4 KB of the page even as a single copy.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, keeping equal items in their order (as `sort_by` does).
pub fn sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    let order = indices(items.len(), &|a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// `0..len` sorted stably by `compare` (bottom-up merge sort, `n log n`
/// comparisons); never inlined, so there is one copy.
#[inline(never)]
fn indices(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut merged = vec![0; len];
    let mut width = 1;
    while width < len {
        let mut start = 0;
        while start < len {
            let mid = (start + width).min(len);
            let end = (mid + width).min(len);
            let (mut left, mut right) = (start, mid);
            for slot in &mut merged[start..end] {
                // The left run wins ties: equal items keep their order.
                let take_right = right < end
                    && (left == mid || compare(order[right], order[left]) == Ordering::Less);
                if take_right {
                    *slot = order[right];
                    right += 1;
                } else {
                    *slot = order[left];
                    left += 1;
                }
            }
            start = end;
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably() {
        let mut items = vec![(2, 'a'), (1, 'b'), (2, 'c'), (0, 'd'), (1, 'e')];
        sort_by(&mut items, |a, b| a.0.cmp(&b.0));
        assert_eq!(items, [(0, 'd'), (1, 'b'), (1, 'e'), (2, 'a'), (2, 'c')]);
        let mut many: Vec<(u32, u32)> = (0..1000).map(|i| ((i * 7919) % 13, i)).collect();
        let mut expected = many.clone();
        expected.sort_by_key(|&(key, _)| key);
        sort_by(&mut many, |a, b| a.0.cmp(&b.0));
        assert_eq!(many, expected);
        let mut none: Vec<u8> = Vec::new();
        sort_by(&mut none, u8::cmp);
        assert!(none.is_empty());
    }
}
