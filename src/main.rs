fn main() {
    println!("proctor");
}
