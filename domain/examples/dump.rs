fn main() {
    for s in complaints_domain::event_schemas() {
        println!("=== {}", s.file_name());
        println!("{}", serde_json::to_string_pretty(&s.schema).unwrap());
    }
}
