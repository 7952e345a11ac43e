use super::*;

#[test]
fn the_window_is_held_between_one_row_and_the_most_the_table_asks_for() {
    let asked = |limit| {
        windowed(&SearchQuery {
            text: "ann".to_owned(),
            limit,
            ..SearchQuery::default()
        })
    };
    assert_eq!(asked(0).limit, 1, "an empty window still shows a row");
    assert_eq!(asked(120).limit, 120);
    assert_eq!(asked(u32::MAX).limit, MAX_WINDOW, "no window past the cap");
    assert_eq!(asked(u32::MAX).text, "ann", "the rest of the query is kept");
}
